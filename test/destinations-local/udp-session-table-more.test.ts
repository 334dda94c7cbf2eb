/**
 * More of the udp session table by itself (see udp-session-table.test.ts): per-datagram routing
 * (not sticky), the idle sweeper's cadence, and refusals reported by a native send.
 */
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { proxyHeaderOf } from '../../destinations/udp/proxy-header.js';
import type { BatchResult, RouteDecision } from '../../gateway/plugin-kit.js';
import { packet } from './helpers.js';
import { nativeRequired, kinds, closeAll, useUpstream, waitFor, backend, deadTarget, router, table, c, relay, portFree } from './session-table-harness.js';

afterEach(closeAll);

describe.each(kinds)('per-datagram routing (not sticky), %s sockets', (upstream) => {
  beforeEach((ctx) => { if (upstream === 'native' && !nativeRequired) ctx.skip(); useUpstream(upstream); });

  it('one session per client and backend, counted per datagram; at maxSessions the oldest goes', async () => {
    const [b1, b2] = [await backend('b1'), await backend('b2')];
    const r = router([b1.target, b2.target]);
    const m = table({ router: r, sticky: false, maxSessions: 2 });
    expect(await relay(m, [['1', c(1)], ['2', c(1)], ['3', c(1)], ['4', c(1)], ['5', c(1)]])).toEqual(Array(5).fill('delivered'));
    // the router sees each datagram by itself, nothing failed before
    expect(r.calls.map((q) => [q.listener, q.remote, q.data.map(String), q.failed])).toEqual(['1', '2', '3', '4', '5'].map((d) => ['edge', c(1), [d], []]));
    await waitFor(() => m.clients.sent.length === 5);
    expect(b1.seen.map((s) => s.data)).toEqual(['1', '3', '5']);
    expect(b2.seen.map((s) => s.data)).toEqual(['2', '4']);
    expect(new Set(b1.seen.map((s) => s.port)).size).toBe(1);
    expect(m.t.list().map((s) => [s.client, s.backend, s.packetsIn, s.packetsOut])).toEqual([['127.0.0.1:1', b1.target.label, 3, 3], ['127.0.0.1:1', b2.target.label, 2, 2]]);
    await relay(m, [['6', c(2)]]); // b2 by turn; the table is full: client 1's session on b1 goes
    expect(m.t.stats).toMatchObject({ created: 3, evicted: 1 });
    expect(m.t.list().map((s) => [s.client, s.backend])).toEqual([['127.0.0.1:1', b2.target.label], ['127.0.0.1:2', b2.target.label]]);
  });

  it('an open session\'s datagrams go out in the relay: one the kernel refuses is retryable', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), sticky: false });
    expect(await relay(m, [['x', c(1)]])).toEqual(['delivered']);
    const out = await m.t.relay([packet(Buffer.alloc(70_000), { remote: c(1) }), packet('y', { remote: c(1) })], m.clock.now);
    expect(out.outcomes[0]).toMatchObject({ status: 'retryable', reason: expect.stringContaining('EMSGSIZE') });
    expect(out.outcomes[1]).toEqual({ status: 'delivered' });
    await waitFor(() => b.seen.length === 2);
    expect(b.seen.map((s) => s.data)).toEqual(['x', 'y']);
  });

  it('an answer that is neither a backend nor a drop reason is counted as unsupported', async () => {
    const m = table({ router: router([], () => ({ drop: 42 }) as unknown as RouteDecision), sticky: false });
    expect(await relay(m, [['x', c(1)]])).toEqual(['delivered']);
    expect(m.drops).toEqual({ 'route-per-packet-unsupported': 1 });
    expect(m.t.size).toBe(0);
  });

  it('PROXY header on every datagram: the session sends each by itself, header and all; each counts and refreshes the session', async () => {
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), sticky: false, proxyHeader: proxyHeaderOf('every'), idleTimeoutMs: 1_000 });
    expect(await relay(m, [['x', c(7)], ['y', c(7)]])).toEqual(['delivered', 'delivered']);
    m.clock.now += 600;
    expect(await relay(m, [['z', c(7)]])).toEqual(['delivered']);
    await waitFor(() => b.seen.length === 3);
    const header = '0d0a0d0a000d0a515549540a' + '2112000c' + '7f000001' + '7f000001' + '0007' + '15b3';
    expect(b.seen.map((s) => s.hex)).toEqual([header + '78', header + '79', header + '7a']);
    expect(new Set(b.seen.map((s) => s.port)).size).toBe(1);
    m.clock.now += 400; // 1,000 ms after the session started, 400 after its last datagram
    m.t.sweep();
    expect(m.t.list().map((s) => [s.client, s.packetsIn])).toEqual([['127.0.0.1:7', 3]]);
  });
});

describe('the idle sweeper', () => {
  beforeEach(() => { useUpstream('dgram'); });

  // It runs every quarter of the idle timeout, at least every 10 ms and at most every 5 s.
  it.each([[1_000, 250], [60_000, 5_000], [20, 10], [100_000, 5_000]])('idleTimeoutMs %i: sweeps every %i ms', async (idleTimeoutMs, every) => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const b = await backend('b', { silent: true });
    const m = table({ router: router([b.target]), idleTimeoutMs });
    await relay(m, [['x', c(1)]]);
    m.clock.now += idleTimeoutMs; // idle from now on
    vi.advanceTimersByTime(every - 1);
    expect(m.t.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect([m.t.size, m.t.stats.expired]).toEqual([0, 1]);
  });

  it('ending a session clears its timers: nothing of it is left scheduled', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const m = table({ router: router([], () => ({ noop: true })) }); // holds; the hold timer runs
    await relay(m, [['x', c(1)]]);
    expect(vi.getTimerCount()).toBe(2); // the sweeper and the hold timer
    m.t.endClient('127.0.0.1', 1);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('close() ends every session (the router hears each), stops the sweeper and closes the router', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const b = await backend('b', { silent: true });
    const r = router([b.target]);
    const m = table({ router: r });
    expect(vi.getTimerCount()).toBe(1);
    await relay(m, [['x', c(1)], ['y', c(2)]]);
    await waitFor(() => b.seen.length === 2);
    await m.t.close();
    expect(vi.getTimerCount()).toBe(0);
    expect([m.t.size, r.closed]).toEqual([0, 1]);
    expect(r.ended).toEqual([`1>${b.target.label}`, `2>${b.target.label}`]);
    // close() resolves once every upstream socket is closed: their ports are free at once
    expect([await portFree(b.seen[0]!.port), await portFree(b.seen[1]!.port)]).toEqual([true, true]);
  });
});

// A send refused with ECONNREFUSED (the ICMP port unreachable of an earlier datagram, queued on the
// socket) is reported by the native sockets' send, not their read: the table handles it once the
// relay is out (onRefused). node:dgram reports it to the socket's error event instead.
describe('refusals reported by a send (native sockets)', () => {
  beforeEach((ctx) => { if (!nativeRequired) ctx.skip(); useUpstream('native'); });

  it('inside a batch: the refused datagram is retryable, the session fails over with both datagrams replayed in order', async () => {
    const [dead, b2] = [await deadTarget(), await backend('b2')];
    const r = router([dead, b2.target], (req) => ({ remote: req.remote.port === 1 && req.failed.length === 0 ? dead : b2.target }));
    const m = table({ router: r, failover: 1 });
    // Two batches in the same tick: the first datagram draws the ICMP, the second's send is refused.
    const first = m.t.relay([packet('a', { remote: c(1) })], m.clock.now) as BatchResult;
    const second = m.t.relay([packet('b', { remote: c(1) }), packet('y', { remote: c(2) })], m.clock.now) as BatchResult;
    expect(first.outcomes).toEqual([{ status: 'delivered' }]);
    expect(second.outcomes).toEqual([{ status: 'retryable', reason: 'udp send failed: send ECONNREFUSED' }, { status: 'delivered' }]);
    expect(m.events).toEqual([['connect-refused', 1], ['failover', 1]]);
    expect(m.t.stats).toMatchObject({ connectErrors: 1, failovers: 1 });
    await waitFor(() => m.clients.sent.length === 3);
    expect(b2.seen.map((s) => s.data)).toEqual(['y', 'a', 'b']);
    expect(m.clients.sent.map((s) => `${s.remote.port} ${s.data.toString()}`)).toEqual(['2 b2:y', '1 b2:a', '1 b2:b']);
    expect(m.t.backendOf('edge', c(1))).toEqual(b2.target);
    expect(r.calls.map((q) => [q.remote.port, q.failed.map((f) => f.label)])).toEqual([[1, []], [2, []], [1, [dead.label]]]);
  });

  it('outside a batch (datagrams replayed by themselves): the refusal is handled at once, the session fails over', async () => {
    const [dead, b2] = [await deadTarget(), await backend('b2')];
    // An answer that comes later: the held datagrams are sent by themselves when it does.
    const r = router([dead, b2.target], (req) => Promise.resolve({ remote: req.failed.length ? b2.target : dead }));
    const m = table({ router: r, failover: 1 });
    expect(await relay(m, [['a', c(1)], ['b', c(1)]])).toEqual(['delivered', 'delivered']);
    await waitFor(() => m.clients.sent.length === 2);
    expect(b2.seen.map((s) => s.data)).toEqual(['a', 'b']);
    expect(m.events).toEqual([['connect-refused', 1], ['failover', 1]]);
    expect(m.t.backendOf('edge', c(1))).toEqual(b2.target);
    // and the next refusal outside a batch, later, is handled just the same
    expect(await relay(m, [['c', c(2)], ['d', c(2)]])).toEqual(['delivered', 'delivered']);
    await waitFor(() => m.clients.sent.length === 4);
    expect(b2.seen.map((s) => s.data)).toEqual(['a', 'b', 'c', 'd']);
    expect(m.events).toEqual([['connect-refused', 1], ['failover', 1], ['connect-refused', 1], ['failover', 1]]);
  });
});
