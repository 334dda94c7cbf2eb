/**
 * The udp destination on real sockets, for both upstream implementations: native session sockets
 * (Linux, the addon; required there unless UDPGW_TRANSPORT=dgram) and node:dgram ones. The
 * destination contract runs for dgram sessions here (contract.test.ts runs the default, native).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { udpKind } from '../../destinations/udp/manifest.js';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createUdpDestination, type UdpDestination, type UdpOptions } from '../../destinations/udp/index.js';
import { GatewayError } from '../../gateway/errors.js';
import type { UpstreamKindName } from '../../destinations/udp/upstream.js';
import { context, never, packet, RecordingClients, until } from './helpers.js';
import { hashAddress } from '../../gateway/routing/balance.js';

const nativeRequired = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
// Both kinds are always registered: native ones are skipped (and reported as skipped) where the addon is not required.
const kinds: UpstreamKindName[] = ['native', 'dgram'];

interface Seen { data: string; port: number }
interface EchoBackend { socket: Socket; label: string; port: number; seen: Seen[] }

const sockets: Socket[] = [];
const open: UdpDestination[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close?.()));
  for (const s of sockets.splice(0)) s.close();
});

/** A real UDP echo backend: answers "<id>:<data>" to whoever sent, and records what it saw. */
async function echoBackend(id: string, host = '127.0.0.1'): Promise<EchoBackend> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sockets.push(socket);
  socket.bind(0, host);
  await once(socket, 'listening');
  const seen: Seen[] = [];
  socket.on('message', (msg, rinfo) => {
    seen.push({ data: msg.toString(), port: rinfo.port });
    socket.send(`${id}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  const port = socket.address().port;
  return { socket, seen, port, label: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}

let kind: UpstreamKindName = 'dgram';

async function proxy(options: UdpOptions, clients = new RecordingClients()): Promise<UdpDestination> {
  const d = await createUdpDestination('udp1', options, context('/', clients), kind);
  open.push(d);
  return d;
}

const alice = { address: '127.0.0.1', port: 50_001 };
const bob = { address: '127.0.0.2', port: 50_002 };

describe.each(kinds)('udp destination, %s sessions', (upstream) => {
  beforeEach((ctx) => { if (upstream === 'native' && !nativeRequired) ctx.skip(); kind = upstream; });

  it('uses the session sockets it was asked for', async () => {
    const b = await echoBackend('b1');
    const d = await proxy({ backends: [b.label] });
    expect(d.status?.()).toMatchObject({ upstream });
  });

  it('gives two clients their own upstream sessions and relays each its own replies', async () => {
    const b = await echoBackend('b1');
    const clients = new RecordingClients();
    const d = await proxy({ backends: [b.label] }, clients);
    const r = await d.sendBatch([packet('from alice', { remote: alice }), packet('from bob', { remote: bob })], never);
    expect(r.outcomes).toEqual([{ status: 'delivered' }, { status: 'delivered' }]);
    await until(() => clients.sent.length === 2);
    const byText = Object.fromEntries(clients.sent.map((s) => [s.data.toString(), s]));
    expect(byText['b1:from alice']).toMatchObject({ listener: 'edge', remote: alice });
    expect(byText['b1:from bob']).toMatchObject({ listener: 'edge', remote: bob });
    expect(new Set(b.seen.map((s) => s.port)).size).toBe(2);
    expect(d.status?.()).toMatchObject({ sessions: 2, created: 2, repliesRelayed: 2 });
  });

  it('hash: each client on the backend its address hashes to (FNV-1a modulo the pool), sticky, one upstream socket each', async () => {
    const backends = [await echoBackend('b1'), await echoBackend('b2'), await echoBackend('b3')];
    const d = await proxy({ backends: backends.map((b) => b.label) });
    // Eight client addresses; their hashes modulo 3 (2,0,1,0,1,2,0,0) differ from round robin's 0,1,2,0,1,2,0,1.
    const clients = Array.from({ length: 8 }, (_, i) => ({ address: `127.0.0.${i + 1}`, port: 40_000 + i }));
    for (let round = 0; round < 2; round++) await d.sendBatch(clients.map((c, i) => packet(`c${i}r${round}`, { remote: c })), never);
    await until(() => backends.reduce((n, b) => n + b.seen.length, 0) === 16);
    const expected = clients.map((c) => backends[hashAddress(c.address) % 3]!);
    expect(clients.map((c) => d.backendOf('edge', c))).toEqual(expected.map((b) => b.label));
    for (const [i, b] of expected.entries()) {
      const mine = b.seen.filter((s) => s.data.startsWith(`c${i}r`));
      expect(mine.map((s) => s.data)).toEqual([`c${i}r0`, `c${i}r1`]);
      expect(mine[0]!.port).toBe(mine[1]!.port); // the same upstream socket both times
    }
    expect(backends.map((b) => b.seen.length)).toEqual([8, 4, 4]);
  });

  it('hash: the same client address on another port reaches the same backend', async () => {
    const backends = [await echoBackend('b1'), await echoBackend('b2'), await echoBackend('b3')];
    const d = await proxy({ backends: backends.map((b) => b.label) });
    const a = { address: '127.0.0.1', port: 1 }, b = { address: '127.0.0.1', port: 2 };
    await d.sendBatch([packet('p1', { remote: a }), packet('p2', { remote: b })], never);
    expect([d.backendOf('edge', a), d.backendOf('edge', b)]).toEqual([backends[hashAddress('127.0.0.1') % 3]!.label, backends[hashAddress('127.0.0.1') % 3]!.label]);
  });

  it('spreads new sessions round robin and keeps each sticky', async () => {
    const backends = [await echoBackend('b1'), await echoBackend('b2')];
    const d = await proxy({ backends: backends.map((b) => b.label), balance: 'round-robin' });
    await d.sendBatch([packet('a1', { remote: alice }), packet('b1', { remote: bob })], never);
    await d.sendBatch([packet('a2', { remote: alice }), packet('b2', { remote: bob })], never);
    await until(() => backends[0]!.seen.length + backends[1]!.seen.length === 4);
    expect(backends[0]!.seen.map((s) => s.data)).toEqual(['a1', 'a2']);
    expect(backends[1]!.seen.map((s) => s.data)).toEqual(['b1', 'b2']);
  });

  it('closes sessions idle past the timeout; the next packet opens a new one', async () => {
    const b = await echoBackend('b1');
    const d = await proxy({ backends: [b.label], idleTimeoutMs: 80 });
    await d.sendBatch([packet('first', { remote: alice })], never);
    expect(d.status?.()).toMatchObject({ sessions: 1 });
    await until(() => d.status?.().sessions === 0);
    expect(d.status?.()).toMatchObject({ expired: 1 });
    await d.sendBatch([packet('second', { remote: alice })], never);
    await until(() => b.seen.length === 2);
    expect(b.seen[1]!.port).not.toBe(b.seen[0]!.port);
  });

  // Active sessions survive: a client that keeps sending, or a backend that keeps answering, holds
  // its session past the idle timeout. The packets are 100 ms apart for 1.6 s with a 600 ms timeout:
  // a session not refreshed by them expires (and the next packet opens a new one) well within that.
  async function pace(times: number, step: (i: number) => Promise<void> | void): Promise<void> {
    for (let i = 0; i < times; i++) { await step(i); await new Promise((r) => setTimeout(r, 100)); }
  }

  it('a client that keeps sending keeps its session past the idle timeout (a silent backend)', async () => {
    const b = await echoBackend('b1');
    b.socket.removeAllListeners('message');
    const seen: number[] = [];
    b.socket.on('message', (_m, rinfo) => seen.push(rinfo.port));
    const d = await proxy({ backends: [b.label], idleTimeoutMs: 600 });
    await pace(16, async (i) => { await d.sendBatch([packet(`m${i}`, { remote: alice })], never); });
    await until(() => seen.length === 16);
    expect(d.status?.()).toMatchObject({ sessions: 1, created: 1, expired: 0 });
    expect(new Set(seen).size).toBe(1);
    await until(() => d.status?.().sessions === 0); // and once it stops, it does expire
    expect(d.status?.()).toMatchObject({ expired: 1 });
  });

  it('a backend that keeps answering keeps the session past the idle timeout', async () => {
    const b = await echoBackend('b1');
    b.socket.removeAllListeners('message');
    let upstream: { port: number; address: string } | undefined;
    b.socket.on('message', (_m, rinfo) => { upstream = rinfo; });
    const clients = new RecordingClients();
    const d = await proxy({ backends: [b.label], idleTimeoutMs: 600 }, clients);
    await d.sendBatch([packet('subscribe', { remote: alice })], never);
    const to = await until(() => upstream);
    await pace(16, (i) => new Promise<void>((r) => b.socket.send(`push${i}`, to.port, to.address, () => r())));
    await until(() => clients.sent.length === 16);
    expect(clients.sent.map((c) => c.data.toString())).toEqual(Array.from({ length: 16 }, (_, i) => `push${i}`));
    expect(d.status?.()).toMatchObject({ sessions: 1, created: 1, expired: 0, repliesRelayed: 16 });
  });

  it('evicts the least recently active session at maxSessions', async () => {
    const b = await echoBackend('b1');
    const d = await proxy({ backends: [b.label], maxSessions: 2 });
    await d.sendBatch([packet('1', { remote: alice }), packet('2', { remote: bob })], never);
    await d.sendBatch([packet('3', { remote: { address: '127.0.0.3', port: 3 } })], never);
    expect(d.status?.()).toMatchObject({ sessions: 2, evicted: 1 });
    expect(d.backendOf('edge', alice)).toBeUndefined();
    expect(d.backendOf('edge', bob)).toBe(b.label);
  });

  it('relays nothing when replies is false, and drops datagrams not from the backend', async () => {
    const b = await echoBackend('b1');
    const quiet = new RecordingClients();
    const d = await proxy({ backends: [b.label], replies: false }, quiet);
    await d.sendBatch([packet('x', { remote: alice })], never);
    await until(() => b.seen.length === 1);

    const clients = new RecordingClients();
    const d2 = await proxy({ backends: [b.label] }, clients);
    await d2.sendBatch([packet('y', { remote: alice })], never);
    await until(() => clients.sent.length === 1 && b.seen.length === 2);
    const stranger = createSocket('udp4');
    sockets.push(stranger);
    // The upstream socket is connected to its backend, so the kernel drops a stranger's datagram;
    // a later real reply shows the spoof (sent first) was never relayed.
    await new Promise<void>((r) => stranger.send('spoof', b.seen[1]!.port, '127.0.0.1', () => r()));
    await d2.sendBatch([packet('z', { remote: alice })], never);
    await until(() => clients.sent.length === 2);
    expect(clients.sent.map((s) => s.data.toString())).toEqual(['b1:y', 'b1:z']);
    expect(quiet.sent).toEqual([]);
  });

  it('proxies to an IPv6 backend', async () => {
    const b = await echoBackend('v6', '::1');
    const clients = new RecordingClients();
    const d = await proxy({ backends: [b.label] }, clients);
    await d.sendBatch([packet('six', { remote: alice })], never);
    await until(() => clients.sent.length === 1);
    expect(clients.sent[0]!.data.toString()).toBe('v6:six');
  });

  it('keeps sessions per destination instance (dual-write)', async () => {
    const [b1, b2] = [await echoBackend('b1'), await echoBackend('b2')];
    const d1 = await proxy({ backends: [b1.label] }), d2 = await proxy({ backends: [b2.label] });
    const p = packet('both', { remote: alice });
    await Promise.all([d1.sendBatch([p], never), d2.sendBatch([p], never)]);
    await until(() => b1.seen.length === 1 && b2.seen.length === 1);
    expect([d1.status?.().sessions, d2.status?.().sessions]).toEqual([1, 1]);
  });

  it('refuses malformed backends at create time, listing each', async () => {
    const err = await createUdpDestination('u', { backends: ['nope', '[::1]:99999'] }, context('/')).catch((e: unknown) => e);
    expect((err as GatewayError).code).toBe('UGW_ERR_DESTINATION_CREATE');
    expect((err as Error).message).toContain('"nope" has no port: write host:port');
    expect((err as Error).message).toContain('"[::1]:99999" has port 99999, outside 1-65535');
  });

  it('reports a socket send error as retryable for that packet only', async () => {
    const b = await echoBackend('b1');
    const d = await proxy({ backends: [b.label] });
    // 65,507 bytes is the largest IPv4 UDP payload; the kernel refuses a larger one (EMSGSIZE).
    const r = await d.sendBatch([packet(Buffer.alloc(70_000), { remote: alice }), packet('fits', { remote: bob })], never);
    expect(r.outcomes[0]).toMatchObject({ status: 'retryable' });
    expect((r.outcomes[0] as { reason: string }).reason).toContain('EMSGSIZE');
    expect(r.outcomes[1]).toEqual({ status: 'delivered' });
  });

  it('has the documented defaults', () => {
    const p = udpKind.options.properties;
    expect([p.balance.default, p.idleTimeoutMs.default, p.maxSessions.default, p.replies.default]).toEqual(['hash', 60_000, 10_000, true]);
  });
});
