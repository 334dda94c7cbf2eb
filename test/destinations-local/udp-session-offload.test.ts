/**
 * The udp session table's side of flow offload (destinations/udp/offload.ts), with a flow the test
 * controls: when an open session asks for it and when it does not, how often a refused ask is
 * repeated, the flow's counts in the session's (sweep, list, eviction), a flow the transport ended,
 * and ending a session. The transport's side is in test/transport/native-flow.test.ts, the two
 * together in test/transport/gateway-offload.test.ts.
 */
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyHeaderOf } from '../../destinations/udp/proxy-header.js';
import type { Session } from '../../destinations/udp/session.js';
import type { OffloadedFlow, OffloadReading } from '../../gateway/plugin-kit.js';
import { closeAll, waitFor, backend, router, table, c, relay } from './session-table-harness.js';

afterEach(closeAll);

class TestFlow implements OffloadedFlow {
  r: { -readonly [K in keyof OffloadReading]: OffloadReading[K] } = {
    active: true, packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, idleInMs: Infinity, idleOutMs: Infinity, errno: 0,
  };
  reads = 0;
  ended = false;
  read(): OffloadReading { this.reads++; return { ...this.r, active: this.r.active && !this.ended }; }
  end(): void { this.ended = true; }
}

/** An offload the test grants or refuses; records which clients asked. */
function offloader(grant = true) {
  const o = {
    asked: [] as number[], flows: [] as TestFlow[], grant,
    fn: (s: Session<unknown>): OffloadedFlow | undefined => {
      o.asked.push(s.remote.port);
      if (!o.grant) return undefined;
      const f = new TestFlow();
      o.flows.push(f);
      return f;
    },
  };
  return o;
}

describe('udp sessions: flow offload', () => {
  it('an open session asks once its datagram reaches the table open; the first one only opens it', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn });
    await relay(m, [['a', c(1)]]);
    expect(o.asked).toEqual([]);
    await relay(m, [['b', c(1)], ['c', c(1)]]); // asked on b; c, in the same batch, goes on through JS
    expect(o.asked).toEqual([1]);
    expect(o.flows[0]!.reads).toBe(1);
    await waitFor(() => b.seen.length === 3);
    expect(b.seen.map((s) => s.data)).toEqual(['a', 'b', 'c']);
  });

  it('a refused ask is repeated no sooner than a second later', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader(false);
    const m = table({ router: router([b.target]), offload: o.fn });
    await relay(m, [['a', c(1)], ['b', c(1)]]);
    expect(o.asked).toEqual([1]);
    await relay(m, [['c', c(1)]]);
    m.clock.now += 999;
    await relay(m, [['d', c(1)]]);
    expect(o.asked).toEqual([1]);
    m.clock.now += 1;
    o.grant = true;
    await relay(m, [['e', c(1)]]);
    expect(o.asked).toEqual([1, 1]);
  });

  const never: [string, Record<string, unknown>][] = [
    ['session.maxRequests', { maxRequests: 5 }],
    ['session.maxReplies', { maxReplies: 1 }],
    ['replies: false', { replies: false }],
    ['a PROXY header on every datagram', { proxyHeader: proxyHeaderOf('every') }],
    ['an inactivity timeout', { inactivityTimeoutMs: 60_000 }],
  ];
  for (const [what, opts] of never) {
    it(`never asks with ${what}`, async () => {
      const b = await backend('b', { silent: true });
      const o = offloader();
      const m = table({ router: router([b.target]), offload: o.fn, ...opts });
      await relay(m, [['a', c(1)], ['b', c(1)]]);
      await relay(m, [['c', c(1)], ['d', c(1)]]);
      expect(o.asked).toEqual([]);
    });
  }

  it('with a PROXY header on the first datagram, asks once the header has gone', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn, proxyHeader: proxyHeaderOf('first') });
    await relay(m, [['a', c(1)]]);
    await relay(m, [['b', c(1)]]);
    expect(o.asked).toEqual([1]);
  });

  it('with a connect timeout, asks only once the backend has answered', async () => {
    const b = await backend('b');
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn, connectTimeoutMs: 60_000 });
    await relay(m, [['a', c(1)]]);
    await relay(m, [['b', c(1)]]);
    expect(o.asked).toEqual([]);
    await waitFor(() => m.clients.sent.length >= 1); // answered
    await relay(m, [['c', c(1)]]);
    expect(o.asked).toEqual([1]);
  });

  it('the flow\'s counts become the session\'s; the sweep expires a session quiet in its flow too, and reads no flow seen since the cutoff', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn, idleTimeoutMs: 1_000 });
    await relay(m, [['a', c(1)], ['b', c(1)]]);
    const f = o.flows[0]!;
    const reads = f.reads;
    m.clock.now += 500;
    m.t.sweep(); // seen 500 ms ago: not read
    expect(f.reads).toBe(reads);
    m.clock.now += 1_000; // 1,500 ms after JS last saw it; the flow forwarded until 100 ms ago
    Object.assign(f.r, { packetsIn: 10, bytesIn: 100, packetsOut: 7, bytesOut: 70, idleInMs: 100, idleOutMs: 300 });
    m.t.sweep();
    expect(m.t.stats).toMatchObject({ expired: 0, repliesRelayed: 7 });
    expect(m.t.list().map((s) => [s.packetsIn, s.packetsOut])).toEqual([[12, 7]]);
    m.clock.now += 1_000;
    Object.assign(f.r, { idleInMs: 1_100, idleOutMs: 1_300 });
    m.t.sweep();
    expect(m.t.stats.expired).toBe(1);
    expect(f.ended).toBe(true);
  });

  it('at maxSessions, an offloaded session active since its last look is not the one evicted', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn, maxSessions: 2 });
    await relay(m, [['a', c(1)], ['b', c(1)]]); // oldest, offloaded
    m.clock.now += 10;
    await relay(m, [['a', c(2)]]);
    m.clock.now += 10;
    Object.assign(o.flows[0]!.r, { packetsIn: 3, idleInMs: 1 }); // client 1 went on through the addon
    await relay(m, [['a', c(3)]]);
    expect(m.t.stats.evicted).toBe(1);
    expect(m.t.list().map((s) => s.client).sort()).toEqual(['127.0.0.1:1', '127.0.0.1:3']);
  });

  it('a flow the transport ended on a refusal: the session\'s next datagram in JS reports the refusal (connect-refused)', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn });
    await relay(m, [['a', c(1)], ['b', c(1)]]);
    Object.assign(o.flows[0]!.r, { active: false, errno: constants.errno.ECONNREFUSED, packetsIn: 2 });
    await relay(m, [['c', c(1)]]);
    expect(o.flows[0]!.ended).toBe(true);
    expect(m.events).toContainEqual(['connect-refused', 1]);
    expect(m.t.stats.connectErrors).toBe(1);
  });

  it('a flow the transport ended for a backlog: the session goes on in JS and asks again a second later', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn });
    await relay(m, [['a', c(1)], ['b', c(1)]]);
    Object.assign(o.flows[0]!.r, { active: false, errno: constants.errno.EAGAIN, packetsIn: 4 });
    await relay(m, [['c', c(1)]]);
    expect(m.t.list()[0]!.packetsIn).toBe(2 + 4 + 1);
    expect(m.events).toEqual([]);
    m.clock.now += 1_000;
    await relay(m, [['d', c(1)]]);
    expect(o.asked).toEqual([1, 1]);
    await waitFor(() => b.seen.length === 4);
  });

  it('ending a session ends its flow, its counts taken first', async () => {
    const b = await backend('b', { silent: true });
    const o = offloader();
    const m = table({ router: router([b.target]), offload: o.fn });
    await relay(m, [['a', c(1)], ['b', c(1)]]);
    Object.assign(o.flows[0]!.r, { packetsOut: 5, idleOutMs: 0 });
    expect(m.t.endClient('127.0.0.1', 1)).toBe(1);
    expect(o.flows[0]!.ended).toBe(true);
    expect(m.t.stats.repliesRelayed).toBe(5);
  });
});
