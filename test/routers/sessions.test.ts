/**
 * What the udp destination does with a session once routed, on real UDP backends, for both
 * upstream socket kinds: connect timeout and ICMP refusal with failover (held datagrams replayed),
 * inactivity, PROXY protocol v2 headers (byte by byte), lifetime by count, hold limits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backend, closeAll, deadPort, never, packet, proxy, routerModule, until } from './support.js';

afterEach(closeAll);

const nativeToo = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
// Both kinds are always registered: native ones are skipped (and reported as skipped) where the addon is not required.
const kinds = ['native', 'dgram'] as const;
const alice = { address: '127.0.0.1', port: 42_001 };
const SIG = '0d0a0d0a000d0a515549540a';

describe.each(kinds)('udp sessions, %s sockets', (upstream) => {
  beforeEach((ctx) => { if (upstream === 'native' && !nativeToo) ctx.skip(); });
  it('connect timeout: a silent backend is left for the next one, the held datagrams replayed in order', async () => {
    const [silent, b2] = [await backend('silent', { silent: true }), await backend('b2')];
    const { d, clients, counted } = await proxy({ backends: [silent.label, b2.label], balance: 'round-robin', connectTimeoutMs: 100, failover: 1 }, undefined, upstream);
    await d.sendBatch([packet('1', { remote: alice }), packet('2', { remote: alice })], never);
    await until(() => clients.sent.length === 2);
    expect(silent.seen.map((s) => s.data.toString())).toEqual(['1', '2']);
    expect(b2.seen.map((s) => s.data.toString())).toEqual(['1', '2']);
    expect(counted.events).toMatchObject({ 'connect-timeout': 1, failover: 1 });
    expect(d.backendOf('edge', alice)).toBe(b2.label);
  });

  it('ICMP port unreachable is a refusal at once (no timeout configured), and fails over', async () => {
    const [dead, b2] = [await deadPort(), await backend('b2')];
    const { d, clients, counted } = await proxy({ backends: [dead, b2.label], balance: 'round-robin', failover: 1 }, undefined, upstream);
    await d.sendBatch([packet('knock', { remote: alice })], never);
    await until(() => clients.sent.length === 1);
    expect(clients.sent[0]!.data.toString()).toBe('b2:knock');
    expect(counted.events).toMatchObject({ 'connect-refused': 1, failover: 1 });
  });

  it('without failover a connect timeout ends the session, its datagrams counted as dropped', async () => {
    const silent = await backend('silent', { silent: true });
    const { d, counted } = await proxy({ backends: [silent.label], connectTimeoutMs: 50 }, undefined, upstream);
    await d.sendBatch([packet('a', { remote: alice }), packet('b', { remote: alice })], never);
    await until(() => d.status?.().sessions === 0);
    expect(counted.events['connect-timeout']).toBe(1);
    expect(silent.seen.length).toBe(2);
  });

  it('inactivity: a backend that answered, then went silent, ends the session (event counted)', async () => {
    const b = await backend('b');
    const { d, clients, counted } = await proxy({ backends: [b.label], inactivityTimeoutMs: 300 }, undefined, upstream);
    await d.sendBatch([packet('x', { remote: alice })], never);
    await until(() => clients.sent.length === 1);
    b.socket.removeAllListeners('message'); // silent from now on
    await until(() => counted.events.inactive === 1 && d.status?.().sessions === 0);
  });

  it('PROXY v2 on the first datagram of a session: IPv4 client, exact bytes', async () => {
    const b = await backend('b');
    const { d } = await proxy({ backends: [b.label], proxyProtocol: { version: 2, on: 'first' } }, undefined, upstream);
    await d.sendBatch([packet('one', { remote: { address: '203.0.113.5', port: 51234 } }), packet('two', { remote: { address: '203.0.113.5', port: 51234 } })], never);
    await until(() => b.seen.length === 2);
    // listener 127.0.0.1:5555 (the test packets' local address)
    expect(b.seen[0]!.data.toString('hex')).toBe(SIG + '2112000c' + 'cb007105' + '7f000001' + 'c822' + '15b3' + Buffer.from('one').toString('hex'));
    expect(b.seen[1]!.data.toString()).toBe('two');
  });

  it('PROXY v2 on every datagram: IPv6 client, exact bytes', async () => {
    const b = await backend('b');
    const v6 = { address: '2001:db8::7', port: 443 };
    const { d } = await proxy({ backends: [b.label], proxyProtocol: { version: 2, on: 'every' } }, undefined, upstream);
    await d.sendBatch([packet('p', { remote: v6 }), packet('q', { remote: v6 })], never);
    await until(() => b.seen.length === 2);
    // 127.0.0.1 is written as ::ffff:127.0.0.1 to share the client's family (spec: one family per header)
    const header = SIG + '2122' + '0024' + '20010db8000000000000000000000007' + '00000000000000000000ffff7f000001' + '01bb' + '15b3';
    expect(b.seen.map((s) => s.data.toString('hex'))).toEqual([header + '70', header + '71']);
  });

  it('maxReplies 1 (DNS): the session ends with its reply; the next query opens a new one', async () => {
    const b = await backend('dns');
    const { d, clients } = await proxy({ backends: [b.label], session: { maxReplies: 1 } }, undefined, upstream);
    await d.sendBatch([packet('q1', { remote: alice })], never);
    await until(() => clients.sent.length === 1 && d.status?.().sessions === 0);
    await d.sendBatch([packet('q2', { remote: alice })], never);
    await until(() => clients.sent.length === 2);
    expect(b.seen[1]!.port).not.toBe(b.seen[0]!.port);
    expect(d.status?.()).toMatchObject({ created: 2, endedByCount: 2 });
  });

  it('maxReplies 1: two replies read at once, the second is not relayed and the session is counted once', async () => {
    const b = await backend('two', { silent: true });
    b.socket.on('message', (_m, rinfo) => { b.socket.send('r1', rinfo.port, rinfo.address); b.socket.send('r2', rinfo.port, rinfo.address); });
    const { d, clients } = await proxy({ backends: [b.label], session: { maxReplies: 1 } }, undefined, upstream);
    await d.sendBatch([packet('q', { remote: alice })], never);
    // The session ends a microtask after its first reply: whatever was read with it was handled by then.
    await until(() => clients.sent.length >= 1 && d.status?.().sessions === 0);
    expect(clients.sent.map((s) => s.data.toString())).toEqual(['r1']);
    expect(d.status?.()).toMatchObject({ created: 1, endedByCount: 1, repliesRelayed: 1 });
  });

  it('maxRequests 2: the third datagram starts a new session', async () => {
    const b = await backend('b');
    const { d } = await proxy({ backends: [b.label], session: { maxRequests: 2 } }, undefined, upstream);
    await d.sendBatch([packet('1', { remote: alice }), packet('2', { remote: alice }), packet('3', { remote: alice })], never);
    await until(() => b.seen.length === 3);
    expect(b.seen[1]!.port).toBe(b.seen[0]!.port);
    expect(b.seen[2]!.port).not.toBe(b.seen[0]!.port);
    expect(d.status?.()).toMatchObject({ created: 2, endedByCount: 1 });
  });
});

describe('datagrams held while the router decides', () => {
  it('are bounded in packets and bytes (counted drops) and in time (route-timeout), never stalling other sessions', async () => {
    const b = await backend('b');
    const mod = routerModule(`export function route(ctx) { return ctx.data.toString().startsWith('wait') ? { noop: true } : { remote: ${JSON.stringify(b.label)} }; }`);
    const { d, counted } = await proxy({ router: { type: 'module', module: mod }, hold: { maxPackets: 2, maxBytes: 12, timeoutMs: 150 } });
    await d.sendBatch(['wait1', 'wait-too-big', 'wait2', 'wait3'].map((t) => packet(t, { remote: alice })).concat(packet('go', { remote: { address: '127.0.0.1', port: 2 } })), never);
    await d.sendBatch([packet('wait-long', { remote: { address: '127.0.0.1', port: 3 } })], never);
    await until(() => b.seen.length === 1);
    expect(counted.drops).toMatchObject({ 'route-hold-packets': 1, 'route-hold-bytes': 1 });
    await until(() => counted.drops['route-timeout'] === 3);
    expect(d.status?.()).toMatchObject({ sessions: 1 });
  });
});

describe('static router through the destination', () => {
  it('least-sessions: new sessions go to the backend with the fewest, and ended sessions count down', async () => {
    const [b1, b2] = [await backend('b1'), await backend('b2')];
    const { d } = await proxy({ backends: [b1.label, b2.label], router: { type: 'static', balance: 'least-sessions' }, session: { maxReplies: 1 } });
    await d.sendBatch([packet('a', { remote: { address: '127.0.0.1', port: 1 } })], never); // b1, ends after its reply
    await until(() => d.status?.().sessions === 0);
    await d.sendBatch([packet('b', { remote: { address: '127.0.0.1', port: 2 } }), packet('c', { remote: { address: '127.0.0.1', port: 3 } })], never);
    await until(() => b1.seen.length + b2.seen.length === 3);
    expect([b1.seen.length, b2.seen.length]).toEqual([2, 1]); // b1 was free again, then b2 had fewer
  });
});

describe('per-packet balancing (session.sticky: false)', () => {
  it('routes every datagram by itself (round robin), replies still reach the client', async () => {
    const [b1, b2] = [await backend('b1'), await backend('b2')];
    const { d, clients } = await proxy({ backends: [b1.label, b2.label], balance: 'round-robin', session: { sticky: false } });
    await d.sendBatch(['1', '2', '3', '4'].map((t) => packet(t, { remote: alice })), never);
    await until(() => clients.sent.length === 4);
    expect(b1.seen.map((s) => s.data.toString())).toEqual(['1', '3']);
    expect(b2.seen.map((s) => s.data.toString())).toEqual(['2', '4']);
    expect(d.status?.()).toMatchObject({ sessions: 2, created: 2 }); // one socket per backend for this client
  });

  // A router that answers per datagram must answer at once with a backend; anything else is a counted drop.
  it.each([
    ['a drop, by its reason', 'export function route() { return { drop: "not-today" }; }', 'not-today'],
    ['a close', 'export function route() { return { close: true }; }', 'route-close'],
    ['a backend as "host:port" text', 'export function route() { return { remote: "127.0.0.1:9" }; }', 'route-per-packet-unsupported'],
    ['a promise', 'export async function route() { return { drop: "late" }; }', 'route-async-per-packet'],
    ['a throw', 'export function route() { throw new Error("broken router"); }', 'route-failed'],
  ])('per datagram, %s sends nothing and is counted', async (_what, source, reason) => {
    const b = await backend('b1');
    const { d, counted } = await proxy({ router: { type: 'module', module: routerModule(source) }, session: { sticky: false } });
    await d.sendBatch([packet('x', { remote: alice }), packet('y', { remote: alice })], never);
    expect(counted.drops).toEqual({ [reason]: 2 });
    expect(d.status?.()).toMatchObject({ sessions: 0, created: 0 });
    expect(b.seen).toEqual([]);
  });
});
