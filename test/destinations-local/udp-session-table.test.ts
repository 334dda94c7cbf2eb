/**
 * The udp destination's session table (destinations/udp/sessions.ts) by itself, on real sockets:
 * real upstream sockets (native and node:dgram) to real UDP backends on 127.0.0.1, a router
 * written here, and the table's clock in the test's hand (every time below is exact). What it
 * proves: which session each datagram went to (the backend's view of the upstream port), the
 * recency order eviction follows, the idle sweep and what refreshes a session, sessions ended by
 * count inside one batch, refusals reported by a send, the control calls and their counts, list().
 */
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxyHeaderOf } from '../../destinations/udp/proxy-header.js';
import type { RouteDecision } from '../../gateway/plugin-kit.js';
import { packet } from './helpers.js';
import { nativeRequired, kinds, closeAll, useUpstream, waitFor, backend, deadTarget, router, table, c, relay, portFree } from './session-table-harness.js';

afterEach(closeAll);

describe.each(kinds)('udp session table, %s sockets', (upstream) => {
  beforeEach((ctx) => { if (upstream === 'native' && !nativeRequired) ctx.skip(); useUpstream(upstream); });

  it('evicts the least recently active session: a client heard again more than a second later moves to the end', async () => {
    const b = await backend('b');
    const m = table({ router: router([b.target]), maxSessions: 2 });
    await relay(m, [['a1', c(1)]]);
    m.clock.now += 10;
    await relay(m, [['b1', c(2)]]);
    m.clock.now += 1_001; // 1,011 ms after client 1's session started: past the once-a-second reorder
    await relay(m, [['a2', c(1)]]);
    await relay(m, [['c1', c(3)]]);
    expect(m.t.stats).toMatchObject({ created: 3, evicted: 1 });
    expect([m.t.backendOf('edge', c(1)), m.t.backendOf('edge', c(2)), m.t.backendOf('edge', c(3))]).toEqual([b.target, undefined, b.target]);
  });

  it('does not reorder within the second: a client heard again exactly 1,000 ms later is still the oldest', async () => {
    const b = await backend('b');
    const m = table({ router: router([b.target]), maxSessions: 2 });
    await relay(m, [['a1', c(1)]]);
    m.clock.now += 10;
    await relay(m, [['b1', c(2)]]);
    m.clock.now += 990; // exactly 1,000 ms after client 1's session started
    await relay(m, [['a2', c(1)]]);
    await relay(m, [['c1', c(3)]]);
    expect(m.t.stats).toMatchObject({ created: 3, evicted: 1 });
    expect([m.t.backendOf('edge', c(1)), m.t.backendOf('edge', c(2)), m.t.backendOf('edge', c(3))]).toEqual([undefined, b.target, b.target]);
  });

  it('the idle sweep ends a session whose last datagram is exactly idleTimeoutMs old, not one a millisecond younger', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), idleTimeoutMs: 1_000 });
    await relay(m, [['x', c(1)]]);
    await waitFor(() => b.seen.length === 1);
    m.clock.now += 999;
    m.t.sweep();
    expect([m.t.size, m.t.stats.expired]).toEqual([1, 0]);
    m.clock.now += 1;
    m.t.sweep();
    expect([m.t.size, m.t.stats.expired]).toEqual([0, 1]);
    expect(m.t.backendOf('edge', c(1))).toBeUndefined();
  });

  it('client traffic refreshes the idle timer: the active session survives the sweep that ends an idle one', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), idleTimeoutMs: 1_000 });
    await relay(m, [['a1', c(1)], ['b1', c(2)]]);
    m.clock.now += 600;
    await relay(m, [['a2', c(1)]]);
    m.clock.now += 400; // client 2 idle for 1,000 ms, client 1 for 400
    m.t.sweep();
    expect(m.t.list().map((s) => s.client)).toEqual(['127.0.0.1:1']);
    expect(m.t.stats.expired).toBe(1);
    await waitFor(() => b.seen.length === 3);
    expect(b.seen.filter((s) => s.data.startsWith('a')).map((s) => s.port)).toEqual([b.seen[0]!.port, b.seen[0]!.port]);
  });

  it('backend replies refresh the idle timer: the session whose backend answered survives, the silent one ends', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), idleTimeoutMs: 1_000 });
    await relay(m, [['a1', c(1)], ['b1', c(2)]]);
    await waitFor(() => b.seen.length === 2);
    const ofClient1 = b.seen.find((s) => s.data === 'a1')!.port;
    m.clock.now += 600;
    b.socket.send('push', ofClient1, '127.0.0.1');
    await waitFor(() => m.clients.sent.length === 1);
    expect(m.clients.sent[0]).toMatchObject({ listener: 'edge', remote: c(1) });
    expect(m.clients.sent[0]!.data.toString()).toBe('push');
    m.clock.now += 400;
    m.t.sweep();
    expect(m.t.list().map((s) => s.client)).toEqual(['127.0.0.1:1']);
    expect(m.t.stats).toMatchObject({ expired: 1, repliesRelayed: 1 });
    m.clock.now += 600; // 1,000 ms after the reply
    m.t.sweep();
    expect(m.t.size).toBe(0);
  });

  it('a session still routing is refreshed by the datagrams it holds', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target], () => ({ noop: true })), idleTimeoutMs: 1_000 });
    await relay(m, [['a1', c(1)], ['b1', c(2)]]);
    m.clock.now += 600;
    await relay(m, [['a2', c(1)]]);
    m.clock.now += 400;
    m.t.sweep();
    expect(m.t.list()).toEqual([{ listener: 'edge', client: '127.0.0.1:1', backend: null, state: 'routing', ageMs: 1_000, packetsIn: 2, packetsOut: 0 }]);
    expect(m.drops).toEqual({ 'session-ended': 1 }); // client 2's held datagram
  });

  it('list(): every session with its client, backend, state, exact age and counts; IPv6 clients in brackets', async () => {
    const b = await backend('b');
    const m = table({ router: router([b.target], (req) => req.remote.port === 3 ? { noop: true } : { remote: b.target }) });
    await relay(m, [['a1', c(1)], ['a2', c(1)]]);
    m.clock.now += 250;
    await relay(m, [['v6', c(2, '::1')], ['w1', c(3)], ['w2', c(3)], ['w3', c(3)]]);
    await waitFor(() => m.clients.sent.length === 3);
    m.clock.now += 50;
    expect(m.t.list()).toEqual([
      { listener: 'edge', client: '127.0.0.1:1', backend: b.target.label, state: 'open', ageMs: 300, packetsIn: 2, packetsOut: 2 },
      { listener: 'edge', client: '[::1]:2', backend: b.target.label, state: 'open', ageMs: 50, packetsIn: 1, packetsOut: 1 },
      { listener: 'edge', client: '127.0.0.1:3', backend: null, state: 'routing', ageMs: 50, packetsIn: 3, packetsOut: 0 },
    ]);
  });

  it('endClient ends every session of that address and port (each listener), counts them once, and nothing for a stranger', async () => {
    const b = await backend('b', { silent: true });
    const r = router([b.target]);
    const m = table({ router: r });
    await relay(m, [['1', c(1)], ['2', c(2)], ['3', c(1, '127.0.0.2')]]);
    await m.t.relay([packet('4', { remote: c(1), listener: 'side' })], m.clock.now);
    expect(m.t.size).toBe(4);
    expect(m.t.endClient('127.0.0.1', 1)).toBe(2);
    expect(m.t.list().map((s) => `${s.listener} ${s.client}`)).toEqual(['edge 127.0.0.1:2', 'edge 127.0.0.2:1']);
    expect(m.t.stats.ended).toBe(2);
    expect(m.events).toEqual([['ended-by-control', 2]]);
    expect(r.ended).toEqual([`1>${b.target.label}`, `1>${b.target.label}`]);
    expect(m.t.endClient('127.0.0.1', 9)).toBe(0);
    expect(m.t.endClient('127.0.0.3', 2)).toBe(0);
    expect(m.t.stats.ended).toBe(2);
    expect(m.events).toEqual([['ended-by-control', 2]]);
    // the next datagram of an ended client starts a new session
    await relay(m, [['5', c(1)]]);
    expect(m.t.stats.created).toBe(5);
  });

  it('endUpstreamPort ends the session on that upstream socket only, counted; an unknown port ends nothing', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target], (req) => req.remote.port === 3 ? { noop: true } : { remote: b.target }) });
    await relay(m, [['1', c(1)], ['2', c(2)], ['3', c(3)]]);
    await waitFor(() => b.seen.length === 2);
    const port2 = b.seen.find((s) => s.data === '2')!.port;
    const unused = await deadTarget();
    expect(m.t.endUpstreamPort(unused.port)).toBe(0);
    expect(m.events).toEqual([]);
    expect(m.t.endUpstreamPort(port2)).toBe(1);
    expect(m.t.list().map((s) => s.client)).toEqual(['127.0.0.1:1', '127.0.0.1:3']);
    expect(m.t.stats.ended).toBe(1);
    expect(m.events).toEqual([['ended-by-control', 1]]);
    // its socket is closed: the port can be bound again
    await waitFor(() => portFree(port2));
  });

  it('maxRequests inside one batch: every 2 datagrams a new session, each on its own socket, all delivered, the old sockets closed after', async () => {
    const b = await backend('b');
    const r = router([b.target]);
    const m = table({ router: r, maxRequests: 2 });
    expect(await relay(m, [['1', c(1)], ['2', c(1)], ['3', c(1)], ['4', c(1)], ['5', c(1)], ['x', c(2)]])).toEqual(Array(6).fill('delivered'));
    await waitFor(() => b.seen.length === 6);
    const port = (d: string) => b.seen.find((s) => s.data === d)!.port;
    expect(port('2')).toBe(port('1'));
    expect(port('4')).toBe(port('3'));
    expect(new Set([port('1'), port('3'), port('5'), port('x')]).size).toBe(4);
    expect(m.t.stats).toMatchObject({ created: 4, endedByCount: 2 });
    expect(m.t.list().map((s) => [s.client, s.packetsIn])).toEqual([['127.0.0.1:1', 1], ['127.0.0.1:2', 1]]);
    expect(r.ended).toEqual([`1>${b.target.label}`, `1>${b.target.label}`]);
    // The retired sockets are closed once the batch is out: their ports can be bound again.
    await waitFor(async () => await portFree(port('1')) && await portFree(port('3')));
    expect(await portFree(port('5'))).toBe(false);
  });

  it('a refused backend without failover ends the session: the refusal counted, no drop counted (nothing was held)', async () => {
    const dead = await deadTarget();
    const r = router([dead]);
    const m = table({ router: r });
    expect(await relay(m, [['knock', c(1)]])).toEqual(['delivered']);
    await waitFor(() => m.t.size === 0);
    expect(m.events).toEqual([['connect-refused', 1]]);
    expect(m.drops).toEqual({});
    expect(m.t.stats).toMatchObject({ connectErrors: 1, heldDropped: 0, created: 1 });
    expect([r.started, r.ended]).toEqual([[`1>${dead.label}`], [`1>${dead.label}`]]);
  });

  it('PROXY header on the first datagram, inside a batch: header + first, then the rest in order; the next batch goes out in the relay again', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), proxyHeader: proxyHeaderOf('first') });
    expect(await relay(m, [['p1', c(1)], ['p2', c(1)], ['q1', c(2)]])).toEqual(['delivered', 'delivered', 'delivered']);
    await waitFor(() => b.seen.length === 3);
    const header = (port: string) => '0d0a0d0a000d0a515549540a' + '2112000c' + '7f000001' + '7f000001' + port + '15b3';
    const hex = (t: string) => Buffer.from(t).toString('hex');
    expect(b.seen.map((s) => s.hex)).toEqual([header('0001') + hex('p1'), hex('p2'), header('0002') + hex('q1')]);
    // Sent in the relay again (not by itself): a datagram the kernel refuses is retryable, the next delivered.
    const out = await m.t.relay([packet(Buffer.alloc(70_000), { remote: c(1) }), packet('p3', { remote: c(1) })], m.clock.now);
    expect(out.outcomes[0]).toMatchObject({ status: 'retryable', reason: expect.stringContaining('EMSGSIZE') });
    expect(out.outcomes[1]).toEqual({ status: 'delivered' });
    await waitFor(() => b.seen.length === 4);
    expect(b.seen[3]).toEqual({ data: 'p3', hex: hex('p3'), port: b.seen[0]!.port });
  });

  it('PROXY header and maxRequests in one batch: the datagrams sent by themselves before the session reached its count still go out', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), proxyHeader: proxyHeaderOf('every'), maxRequests: 1 });
    expect(await relay(m, [['q1', c(1)], ['q2', c(1)], ['q3', c(1)]])).toEqual(['delivered', 'delivered', 'delivered']);
    await waitFor(() => b.seen.length === 3);
    const header = '0d0a0d0a000d0a515549540a' + '2112000c' + '7f000001' + '7f000001' + '0001' + '15b3';
    const hex = (t: string) => Buffer.from(t).toString('hex');
    expect(b.seen.map((s) => s.hex)).toEqual([header + hex('q1'), header + hex('q2'), header + hex('q3')]);
    expect(new Set(b.seen.map((s) => s.port)).size).toBe(3); // a session, and a socket, each
    expect(m.t.stats).toMatchObject({ created: 3, endedByCount: 2 });
    // and the retired sockets are closed after the batch
    await waitFor(async () => await portFree(b.seen[0]!.port) && await portFree(b.seen[1]!.port));
  });

  it('a session evicted later in the batch sends nothing more: what it held back is not sent on its closed socket', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), proxyHeader: proxyHeaderOf('first'), maxSessions: 1 });
    expect(await relay(m, [['a1', c(1)], ['b1', c(2)]])).toEqual(['delivered', 'delivered']);
    await waitFor(() => b.seen.length === 1);
    expect(m.t.stats).toMatchObject({ created: 2, evicted: 1 });
    expect(b.seen.map((s) => s.data.slice(-2))).toEqual(['b1']);
    // a later datagram of client 2 proves the backend's queue was read past anything of client 1
    expect(await relay(m, [['b2', c(2)]])).toEqual(['delivered']);
    await waitFor(() => b.seen.length === 2);
    expect(b.seen.map((s) => s.data.slice(-2))).toEqual(['b1', 'b2']);
    expect(m.upstreams.stats.sendErrors).toBe(0);
  });

  it('a session ended while its router decides stays ended when the answer comes: no socket, the router never told it started', async () => {
    const b = await backend('b', { silent: true });
    let answer!: (d: RouteDecision) => void;
    const r = router([b.target], () => new Promise<RouteDecision>((resolve) => { answer = resolve; }));
    const m = table({ router: r });
    await relay(m, [['x', c(1)], ['y', c(1)]]);
    expect(m.t.list()).toMatchObject([{ state: 'routing', packetsIn: 2 }]);
    expect(m.t.endClient('127.0.0.1', 1)).toBe(1);
    expect(m.drops).toEqual({ 'session-ended': 2 });
    expect(m.t.stats.heldDropped).toBe(2);
    answer({ remote: b.target });
    await new Promise((resolve) => setImmediate(resolve));
    expect([r.started, m.t.size, m.t.backendOf('edge', c(1))]).toEqual([[], 0, undefined]);
  });

  it('an open session ends without counting the datagrams kept for a failover replay as dropped', async () => {
    const [silent, b2] = [await backend('silent', { silent: true }), await backend('b2', { silent: true })];
    const m = table({ router: router([silent.target, b2.target]), failover: 1, idleTimeoutMs: 1_000 });
    await relay(m, [['x', c(1)], ['y', c(1)]]);
    await waitFor(() => silent.seen.length === 2);
    m.clock.now += 1_000;
    m.t.sweep();
    expect([m.t.size, m.t.stats.expired, m.t.stats.heldDropped]).toEqual([0, 1, 0]);
    expect(m.drops).toEqual({});
  });

  it('maxRequests does not end a session still routing: what it held goes out on one socket, the next datagram starts a new session', async () => {
    const b = await backend('b', { silent: true });
    const r = router([b.target], (req) => req.data.length < 3 ? { noop: true } : { remote: b.target });
    const m = table({ router: r, maxRequests: 1 });
    await relay(m, [['1', c(1)], ['2', c(1)], ['3', c(1)]]);
    await waitFor(() => b.seen.length === 3);
    expect(b.seen.map((s) => s.data)).toEqual(['1', '2', '3']);
    expect(new Set(b.seen.map((s) => s.port)).size).toBe(1);
    expect(m.t.stats).toMatchObject({ created: 1, endedByCount: 0, heldDropped: 0 });
    await relay(m, [['4', c(1)]]);
    expect(m.t.stats).toMatchObject({ created: 2, endedByCount: 1 });
    expect(r.calls.map((q) => q.data.map(String))).toEqual([['1'], ['1', '2'], ['1', '2', '3'], ['4']]);
  });
});

