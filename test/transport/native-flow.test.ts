/**
 * Flow offload on native sockets (native/udp_flow.c, net/native-flow.ts): a listener forwards a
 * pinned client's datagrams to its session socket, and the session's backend's datagrams back to
 * the client from the listener, without JS. Real sockets on 127.0.0.1 and ::1: a client, the
 * listener (NativeTransport), a session socket (NativeUpstreamSockets) and a backend. The JS
 * callbacks (the listener's batches, the session's replies) show what did not go the fast way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { constants } from 'node:os';
import type { Datagram, Endpoint } from '../../gateway/packet.js';
import type { OffloadedFlow } from '../../gateway/extension/transport.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport, type NativeTransport } from '../../net/native.js';
import { NativeUpstreamSockets, type NativeUpstreamSocket } from '../../net/native-upstream-sockets.js';
import { Sink, closeClient, openClient, sleep, waitFor, type Client } from './helpers.js';

const addon = loadNativeAddon().addon;
const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram' && !!addon;

type Item = { data: Uint8Array };

describe.skipIf(!required)('native transport: flow offload', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

  /** A listener on `host`, a backend, a client, and a session socket to the backend whose replies JS sees. */
  async function setup(host = '127.0.0.1', clientHost = host, listenerHost = host, maxDatagramBytes = 1500) {
    const sink = new Sink();
    const listener = (await nativeTransport.bind({ host: listenerHost, port: 0, maxDatagramBytes }, sink.onBatch, sink.onError)) as NativeTransport;
    closers.push(() => listener.close());
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const backend = await openClient(type, host);
    closers.push(() => closeClient(backend));
    const client = await openClient(clientHost.includes(':') ? 'udp6' : 'udp4', clientHost);
    closers.push(() => closeClient(client));
    const sockets = new NativeUpstreamSockets<Item>(addon!, { refused: () => {}, dropped: () => {} });
    const replies: string[] = [];
    const errors: Error[] = [];
    const link = sockets.open({ address: host, port: backend.port, family: host.includes(':') ? 6 : 4 }, {
      reply: (b) => replies.push(b.toString()), foreign: () => {}, error: (e) => errors.push(e),
    });
    closers.push(() => sockets.close(link));
    return { sink, listener, backend, client, sockets, link, replies, errors };
  }

  const texts = (d: readonly { data: Uint8Array }[]) => d.map((x) => Buffer.from(x.data).toString());
  async function sendAll(c: Client, port: number, host: string, list: string[]): Promise<void> {
    for (const t of list) await c.send(t, port, host);
  }
  function pin(listener: NativeTransport, sockets: NativeUpstreamSockets<Item>, link: NativeUpstreamSocket<Item>, client: Endpoint): OffloadedFlow {
    const flow = listener.offload(client, sockets.offloadTarget(link)!);
    expect(flow).toBeDefined();
    return flow!;
  }

  it('forwards a pinned client\'s datagrams to its session and the backend\'s back, without JS', async () => {
    const { sink, listener, backend, client, sockets, link, replies } = await setup();
    const flow = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    await sendAll(client, listener.local.port, '127.0.0.1', ['a1', 'a2', 'a3']);
    await waitFor(() => backend.received.length === 3, 'the backend got three');
    expect(texts(backend.received)).toEqual(['a1', 'a2', 'a3']);
    expect(sink.count).toBe(0); // nothing reached the listener's JS
    // The backend answers the session socket; the client hears it from the listener's address.
    const from = backend.received[0]!;
    await backend.send('r1', from.port, from.address);
    await backend.send('r22', from.port, from.address);
    await waitFor(() => client.received.length === 2, 'the client got two replies');
    expect(texts(client.received)).toEqual(['r1', 'r22']);
    expect(client.received.every((r) => r.port === listener.local.port && r.address === '127.0.0.1')).toBe(true);
    expect(replies).toEqual([]); // nor the session's JS
    const r = flow.read();
    expect(r).toMatchObject({ active: true, packetsIn: 3, bytesIn: 6, packetsOut: 2, bytesOut: 5, errno: 0 });
    expect(r.idleInMs).toBeLessThan(5_000);
    expect(listener.offloadTotals()).toEqual({ flows: 1, packetsIn: 3, bytesIn: 6, packetsOut: 2, bytesOut: 5, outRefused: 0, handedBack: 0 });
  });

  it('a flow is read in place: counts and last-activity times as the addon forwards, with no call; an ended flow keeps its reading', async () => {
    const { listener, backend, client, sockets, link } = await setup();
    const c = { address: '127.0.0.1', port: client.port };
    const flow = pin(listener, sockets, link, c);
    const state = (link.socket as unknown as { flowState(): Float64Array }).flowState();
    await sendAll(client, listener.local.port, '127.0.0.1', ['x1', 'x22']);
    await waitFor(() => backend.received.length === 2, 'forwarded');
    expect(state[1]).toBe(2); // the addon's own memory, updated as it forwards
    expect(state[2]).toBe(5);
    const t = addon!.monotonicMs!();
    expect(state[5]).toBeGreaterThan(t - 5_000);
    expect(state[5]).toBeLessThanOrEqual(t);
    expect(state[6]).toBe(0); // nothing went out yet
    const soon = flow.read();
    expect(soon.idleInMs).toBeLessThan(250);
    await sleep(400);
    // Later passes read a later clock (the clock is read once per synchronous pass).
    const later = flow.read();
    expect(later.idleInMs).toBeGreaterThanOrEqual(soon.idleInMs + 300);
    expect(later.idleInMs).toBeLessThan(soon.idleInMs + 5_000);
    const raw = (link.socket as unknown as { flow(): number[] }).flow();
    expect(Math.abs(raw[5]! - later.idleInMs)).toBeLessThan(100); // the addon's own reading agrees
    expect(later.idleOutMs).toBe(Infinity);
    flow.end();
    const again = pin(listener, sockets, link, c); // the same socket: its counts restart
    await client.send('x3', listener.local.port, '127.0.0.1');
    await waitFor(() => backend.received.length === 3, 'forwarded again');
    expect(again.read()).toMatchObject({ active: true, packetsIn: 1, bytesIn: 2 });
    expect(flow.read()).toMatchObject({ active: false, packetsIn: 2, bytesIn: 5 }); // the ended flow's own
  });

  it('another client, not pinned, still reaches JS; so do the pinned client\'s datagrams once the flow ends', async () => {
    const { sink, listener, backend, client, sockets, link } = await setup();
    const other = await openClient('udp4', '127.0.0.1');
    closers.push(() => closeClient(other));
    const flow = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    expect(flow.read()).toMatchObject({ active: true, packetsIn: 0, idleInMs: Infinity, idleOutMs: Infinity });
    await other.send('o1', listener.local.port, '127.0.0.1');
    await client.send('p1', listener.local.port, '127.0.0.1');
    await waitFor(() => sink.count === 1 && backend.received.length === 1, 'one each way');
    expect(texts(sink.all)).toEqual(['o1']);
    flow.end();
    flow.end(); // idempotent
    expect(flow.read()).toMatchObject({ active: false, packetsIn: 1 });
    await client.send('p2', listener.local.port, '127.0.0.1');
    await waitFor(() => sink.count === 2, 'p2 through JS');
    expect(texts(sink.all)).toEqual(['o1', 'p2']);
    expect(backend.received.length).toBe(1);
    expect(listener.offloadTotals().flows).toBe(0);
  });

  it('a client has one pinned session at a time; the same session may be pinned again', async () => {
    const { listener, backend, client, sockets, link } = await setup();
    const second = sockets.open({ address: '127.0.0.1', port: backend.port, family: 4 }, { reply: () => {}, foreign: () => {}, error: () => {} });
    closers.push(() => sockets.close(second));
    const c = { address: '127.0.0.1', port: client.port };
    const flow = pin(listener, sockets, link, c);
    expect(listener.offload(c, sockets.offloadTarget(second)!)).toBeUndefined(); // EBUSY
    flow.end();
    const again = pin(listener, sockets, link, c);
    expect(again.read()).toMatchObject({ active: true, packetsIn: 0 });
    expect(listener.offload({ address: 'not an address', port: 1 }, sockets.offloadTarget(second)!)).toBeUndefined();
    expect(listener.offload(c, {})).toBeUndefined(); // not a session socket
  });

  it('the addon refuses what is not a listener and a session socket of its own', async () => {
    const { listener, sockets, link, client } = await setup();
    const session = sockets.offloadTarget(link) as { pin(l: unknown, key: Uint32Array): number };
    const key = new Uint32Array([4, client.port, 0x0100007f, 0, 0, 0]);
    expect(() => session.pin({}, key)).toThrow(/pin\(listener/);
    expect(() => session.pin(session, key)).toThrow(/pin\(listener/); // a session is not a listener
    expect(() => session.pin((listener as unknown as { queue: { socket: unknown } }).queue.socket, new Uint32Array(5))).toThrow(/pin\(listener/);
    const listenerSocket = (listener as unknown as { queue: { socket: unknown } }).queue.socket;
    expect(session.pin(listenerSocket, new Uint32Array([6, client.port, 0, 0, 0, 1]))).toBe(-constants.errno.EINVAL); // IPv6 client, IPv4 listener
    expect(session.pin(listenerSocket, new Uint32Array([4, 0, 0x0100007f, 0, 0, 0]))).toBe(-constants.errno.EINVAL); // port 0
    expect(session.pin(listenerSocket, key)).toBe(0);
  });

  it('closing the session socket unpins it: the client\'s datagrams reach JS', async () => {
    const { sink, listener, client, sockets, link } = await setup();
    const flow = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    sockets.close(link);
    expect(flow.read().active).toBe(false);
    expect(listener.offloadTotals().flows).toBe(0);
    await client.send('x', listener.local.port, '127.0.0.1');
    await waitFor(() => sink.count === 1, 'x through JS');
  });

  it('ending the listener\'s offload, or closing the listener, unpins every session; replies then reach JS', async () => {
    const { listener, backend, client, sockets, link, replies } = await setup();
    const flow = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    await client.send('q', listener.local.port, '127.0.0.1');
    await waitFor(() => backend.received.length === 1, 'q forwarded');
    listener.endOffload();
    expect(flow.read().active).toBe(false);
    const again = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    await listener.close();
    expect(again.read().active).toBe(false);
    const from = backend.received[0]!;
    await backend.send('late', from.port, from.address);
    await waitFor(() => replies.length === 1, 'the reply through the session\'s JS');
    expect(replies).toEqual(['late']);
  });

  it('a refusal by the backend (ICMP port unreachable) ends the offload and hands the datagram to JS', async () => {
    const { sink, listener, backend, client, sockets, link } = await setup();
    await closeClient(backend); // nobody listens there now (its closer tolerates a second close)
    // The session socket is not read, so the ICMP error d1 causes stays queued on it (a reading
    // socket reports it to JS first, which ends the session) and the send of d2 is refused.
    link.socket.stopReading();
    const f2 = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    await client.send('d1', listener.local.port, '127.0.0.1');
    await waitFor(() => f2.read().packetsIn === 1, 'd1 forwarded');
    await sleep(20);
    await client.send('d2', listener.local.port, '127.0.0.1');
    await waitFor(() => !f2.read().active, 'the offload ends');
    const r = f2.read();
    expect(r.errno).toBe(constants.errno.ECONNREFUSED);
    expect(r.packetsIn).toBe(1);
    await waitFor(() => sink.count === 1, 'd2 through JS');
    expect(texts(sink.all)).toEqual(['d2']);
    expect(listener.offloadTotals().handedBack).toBe(1);
  });

  it('a datagram cut to the listener\'s size ends the offload and reaches JS, which counts it', async () => {
    const { sink, listener, backend, client, sockets, link } = await setup('127.0.0.1', '127.0.0.1', '127.0.0.1', 100);
    const flow = pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    await client.send('small', listener.local.port, '127.0.0.1');
    await client.send('L'.repeat(200), listener.local.port, '127.0.0.1');
    await waitFor(() => sink.count === 1, 'the long one through JS');
    expect(sink.all[0]!.data.length).toBe(100);
    expect(listener.stats.truncated).toBe(1);
    expect(flow.read()).toMatchObject({ active: false, errno: constants.errno.EMSGSIZE, packetsIn: 1 });
    expect(texts(backend.received)).toEqual(['small']);
  });

  it('IPv6: a client on ::1', async () => {
    const { sink, listener, backend, client, sockets, link } = await setup('::1');
    const flow = pin(listener, sockets, link, { address: '::1', port: client.port });
    await sendAll(client, listener.local.port, '::1', ['v6a', 'v6b']);
    await waitFor(() => backend.received.length === 2, 'forwarded');
    const from = backend.received[0]!;
    await backend.send('v6r', from.port, from.address);
    await waitFor(() => client.received.length === 1, 'reply');
    expect(client.received[0]).toMatchObject({ address: '::1', port: listener.local.port });
    expect(sink.count).toBe(0);
    expect(flow.read()).toMatchObject({ packetsIn: 2, packetsOut: 1 });
  });

  it('a dual-stack listener: an IPv4 client is pinned by its v4-mapped address', async () => {
    const { sink, listener, backend, client, sockets, link } = await setup('127.0.0.1', '127.0.0.1', '::');
    expect(listener.offload({ address: '127.0.0.1', port: client.port }, sockets.offloadTarget(link)!)).toBeUndefined(); // not how it sees the client
    const flow = pin(listener, sockets, link, { address: '::ffff:127.0.0.1', port: client.port });
    await client.send('m1', listener.local.port, '127.0.0.1');
    await waitFor(() => backend.received.length === 1, 'forwarded');
    const from = backend.received[0]!;
    await backend.send('m2', from.port, from.address);
    await waitFor(() => client.received.length === 1, 'reply');
    expect(client.received[0]).toMatchObject({ address: '127.0.0.1', port: listener.local.port });
    expect(sink.count).toBe(0);
    expect(flow.read()).toMatchObject({ packetsIn: 1, packetsOut: 1 });
  });

  it('datagrams of one client read in one batch leave as GSO runs where the session socket has GSO', async () => {
    const { sink, listener, backend, client, sockets, link } = await setup();
    pin(listener, sockets, link, { address: '127.0.0.1', port: client.port });
    const before = addon!.offload!();
    // Forty single datagrams (no GSO from node:dgram, so no GRO run on loopback either) wait while
    // the listener does not read; then one read takes them all, each in a slot of its own. Copied
    // back to back, the forty of one size leave as one run.
    const raw = (listener as unknown as { queue: { socket: { startReading(): void } } }).queue.socket;
    listener.pause();
    const list = Array.from({ length: 40 }, (_, i) => `g${String(i).padStart(3, '0')}`.padEnd(64, '.'));
    await sendAll(client, listener.local.port, '127.0.0.1', list);
    await sleep(20);
    raw.startReading();
    await waitFor(() => backend.received.length === 40, 'all 40');
    expect(texts(backend.received)).toEqual(list);
    expect(sink.count).toBe(0);
    const after = addon!.offload!();
    if (after.gso) expect(after.gsoDatagrams - before.gsoDatagrams).toBeGreaterThanOrEqual(20);
    else expect(after.gsoDatagrams - before.gsoDatagrams).toBe(0);
  });

  it('a burst: every datagram once, in order, with its bytes; mixed sizes', async () => {
    const { sink, listener, backend, sockets, link } = await setup();
    const tx = (await nativeTransport.bind({ host: '127.0.0.1', port: 0, maxDatagramBytes: 1500 }, () => {}, () => {})) as NativeTransport;
    closers.push(() => tx.close());
    pin(listener, sockets, link, { address: '127.0.0.1', port: tx.local.port });
    const sent: string[] = [];
    for (let round = 0; round < 20; round++) {
      const list: Datagram[] = [];
      for (let i = 0; i < 25; i++) {
        const n = round * 25 + i;
        const text = `${n}:`.padEnd(1 + (n * 37) % 1200, String.fromCharCode(97 + (n % 26)));
        sent.push(text);
        list.push({ data: Buffer.from(text), address: '127.0.0.1', port: listener.local.port });
      }
      tx.sendDatagrams(list);
      await sleep(2);
    }
    await waitFor(() => backend.received.length === sent.length, 'all 500', 5000);
    expect(texts(backend.received)).toEqual(sent);
    expect(sink.count).toBe(0);
  });
});
