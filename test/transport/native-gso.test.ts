/**
 * UDP GSO in the native addon (native/udp_send.c): consecutive datagrams of one send batch to the
 * same destination with the same size (the last may be shorter) leave as one UDP_SEGMENT message;
 * receivers must see exactly the datagrams a plain sendmmsg would give them. The addon's counters
 * (offload()) show that GSO was really used, so these tests cannot pass on the plain path alone.
 * Real sockets on 127.0.0.1 and ::1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNativeUpstreams } from '../../destinations/udp/native-upstream.js';
import type { Packet } from '../../gateway/packet.js';
import { loadNativeAddon, type NativeAddon, type OffloadStatus } from '../../net/native-addon.js';
import { nativeTransport, type NativeTransport } from '../../net/native.js';
import { Sink, closeClient, openClient, waitFor, type Client } from './helpers.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const addon = loadNativeAddon().addon as NativeAddon;
const EIO = 5, EPERM = 1, EINVAL = 22;

/** Counter changes since `before`. */
function since(before: OffloadStatus): Record<string, number> {
  const now = addon.offload!();
  return { sends: now.gsoSends - before.gsoSends, datagrams: now.gsoDatagrams - before.gsoDatagrams, fallbacks: now.gsoFallbacks - before.gsoFallbacks };
}

const bytes = (len: number, seed: number) => Buffer.from(Array.from({ length: len }, (_, i) => (seed * 31 + i * 7) & 0xff));

// Registered everywhere, skipped (and reported as skipped) where the addon is not required.
describe.skipIf(!required)('GSO (native addon required on Linux unless UDPGW_TRANSPORT=dgram)', describeGso);

function describeGso(): void {
describe('native transport: UDP GSO', () => {
  const transports: NativeTransport[] = [];
  const clients: Client[] = [];
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => { if (w.code === 'UDPGW_GSO_FALLBACK') warnings.push(w.message); };
  beforeAll(() => {
    expect(addon.setOffload!('all')).toMatchObject({ mode: 'all', gso: true });
    process.on('warning', onWarning);
  });
  afterAll(() => { process.off('warning', onWarning); });
  afterEach(async () => {
    addon.setOffload!('all');
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await Promise.all(clients.splice(0).map(closeClient));
  });

  async function bind(host = '127.0.0.1', sink = new Sink(), maxDatagramBytes = 1500): Promise<NativeTransport> {
    const t = (await nativeTransport.bind({ host, port: 0, maxDatagramBytes, receiveBufferBytes: 4 << 20 }, sink.onBatch, sink.onError)) as NativeTransport;
    transports.push(t);
    return t;
  }
  async function client(type: 'udp4' | 'udp6' = 'udp4', host = '127.0.0.1'): Promise<Client> {
    const c = await openClient(type, host);
    clients.push(c);
    return c;
  }
  /** A native receiver without GRO, so the kernel hands it the datagrams one by one. */
  async function plainReceiver(host = '127.0.0.1'): Promise<{ t: NativeTransport; sink: Sink }> {
    addon.setOffload!('gso');
    const sink = new Sink();
    const t = await bind(host, sink, 2048);
    addon.setOffload!('all');
    return { t, sink };
  }

  it('equal datagrams to one client leave as one GSO run; the last, shorter one included', async () => {
    const t = await bind();
    const c = await client();
    const data = [...Array.from({ length: 9 }, (_, i) => bytes(100, i)), bytes(7, 9)];
    const before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === data.length, 'ten datagrams');
    expect(c.received.map((r) => r.data)).toEqual(data);
    expect(c.received.every((r) => r.port === t.local.port && r.address === '127.0.0.1')).toBe(true);
    expect(since(before)).toEqual({ sends: 1, datagrams: 10, fallbacks: 0 });
    expect(t.stats).toEqual({ truncated: 0, refused: 0, backlogDropped: 0 });
  });

  it('mixed sizes in one batch: a shorter datagram ends a run, a longer one starts the next; empty ones go alone', async () => {
    const t = await bind();
    const c = await client();
    const sizes = [100, 100, 100, 50, 100, 100, 30, 30, 30, 200, 200, 0, 5, 5, 1];
    const data = sizes.map((n, i) => bytes(n, i));
    const before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === data.length, `${data.length} datagrams`);
    expect(c.received.map((r) => r.data)).toEqual(data);
    // Runs: [100 100 100 50] [100 100] [30 30 30] [200 200], 0 alone, [5 5 1].
    expect(since(before)).toEqual({ sends: 5, datagrams: 14, fallbacks: 0 });
  });

  it('a batch spread over many destinations: runs only of consecutive datagrams to the same one, each client gets its own in order', async () => {
    const t = await bind();
    const cs = await Promise.all(Array.from({ length: 8 }, () => client()));
    const interleaved = Array.from({ length: 32 }, (_, i) => ({ data: bytes(64, i), address: '127.0.0.1', port: cs[i % 8]!.port }));
    const grouped = cs.flatMap((c, k) => Array.from({ length: 4 }, (_, j) => ({ data: bytes(64, 100 + k * 4 + j), address: '127.0.0.1', port: c.port })));
    let before = addon.offload!();
    t.sendDatagrams(interleaved);
    await waitFor(() => cs.every((c) => c.received.length === 4), 'four datagrams each');
    expect(since(before)).toEqual({ sends: 0, datagrams: 0, fallbacks: 0 });
    before = addon.offload!();
    t.sendDatagrams(grouped);
    await waitFor(() => cs.every((c) => c.received.length === 8), 'eight datagrams each');
    expect(since(before)).toEqual({ sends: 8, datagrams: 32, fallbacks: 0 });
    cs.forEach((c, k) => {
      const mine = [...interleaved, ...grouped].filter((d) => d.port === c.port).map((d) => d.data);
      expect(c.received.map((r) => r.data)).toEqual(mine);
    });
  });

  it('IPv6: runs to a ::1 client arrive exact and from the bound port', async () => {
    const t = await bind('::1');
    const c = await client('udp6', '::1');
    const data = [bytes(1200, 1), bytes(1200, 2), bytes(1200, 3), bytes(600, 4)];
    const before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '::1', port: c.port })));
    await waitFor(() => c.received.length === 4, 'four datagrams');
    expect(c.received.map((r) => r.data)).toEqual(data);
    expect(c.received.every((r) => r.address === '::1' && r.port === t.local.port)).toBe(true);
    expect(since(before)).toEqual({ sends: 1, datagrams: 4, fallbacks: 0 });
  });

  it('an IPv6 wildcard socket sends runs to an IPv4 client (v4-mapped) exact', async () => {
    const t = await bind('::');
    const c = await client();
    const data = [bytes(200, 1), bytes(200, 2), bytes(150, 3)];
    const before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '::ffff:127.0.0.1', port: c.port })));
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 6, 'six datagrams');
    expect(c.received.map((r) => r.data)).toEqual([...data, ...data]);
    expect(c.received.every((r) => r.port === t.local.port)).toBe(true);
    expect(since(before)).toEqual({ sends: 2, datagrams: 6, fallbacks: 0 });
  });

  it('EMSGSIZE on a run (a segment over the route MTU) resends it plainly and stops coalescing segments that long only', async () => {
    const t = await bind();
    const c = await client();
    const long = Array.from({ length: 4 }, (_, i) => bytes(300, i)), short = Array.from({ length: 4 }, (_, i) => bytes(299, i));
    addon.setOffload!('all', { gsoErrno: 90, count: 1 }); // EMSGSIZE
    let before = addon.offload!();
    t.sendDatagrams(long.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 4, 'four datagrams');
    expect(since(before)).toEqual({ sends: 0, datagrams: 0, fallbacks: 1 });
    before = addon.offload!();
    t.sendDatagrams([...long, ...short].map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 12, 'eight more');
    expect(c.received.map((r) => r.data)).toEqual([...long, ...long, ...short]);
    expect(since(before)).toEqual({ sends: 1, datagrams: 4, fallbacks: 0 }); // only the 299-byte run
    expect(t.stats.refused).toBe(0);
  });

  it('more datagrams than the kernel takes per GSO send: runs of at most 64 segments and 65507 bytes', async () => {
    const t = await bind();
    const { t: rx, sink } = await plainReceiver();
    const small = Array.from({ length: 300 }, (_, i) => bytes(10, i)); // 64+64+64+64+44
    let before = addon.offload!();
    t.sendDatagrams(small.map((d) => ({ data: d, address: '127.0.0.1', port: rx.local.port })));
    await waitFor(() => sink.count === 300, '300 datagrams');
    expect(sink.all.map((d) => d.data)).toEqual(small);
    expect(since(before)).toEqual({ sends: 5, datagrams: 300, fallbacks: 0 });
    const large = Array.from({ length: 60 }, (_, i) => bytes(1200, i)); // 54 x 1200 = 64800 <= 65507 < 55 x 1200
    before = addon.offload!();
    t.sendDatagrams(large.map((d) => ({ data: d, address: '127.0.0.1', port: rx.local.port })));
    await waitFor(() => sink.count === 360, '60 more datagrams');
    expect(sink.all.slice(300).map((d) => d.data)).toEqual(large);
    expect(since(before)).toEqual({ sends: 2, datagrams: 60, fallbacks: 0 });
  });

  it('a GSO send the kernel refuses (simulated EIO) goes again without GSO: every datagram once, in order', async () => {
    const t = await bind();
    const c = await client();
    const data = Array.from({ length: 6 }, (_, i) => bytes(80, i));
    addon.setOffload!('all', { gsoErrno: EIO, count: 1 });
    let before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 6, 'six datagrams');
    expect(c.received.map((r) => r.data)).toEqual(data);
    expect(since(before)).toEqual({ sends: 0, datagrams: 0, fallbacks: 1 });
    expect(addon.offload!().gsoLastErrno).toBe(EIO);
    expect(t.stats.refused).toBe(0);
    before = addon.offload!(); // that socket now sends without GSO
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 12, 'six more');
    expect(since(before)).toEqual({ sends: 0, datagrams: 0, fallbacks: 0 });
    const other = await bind(); // another socket still uses GSO
    before = addon.offload!();
    other.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 18, 'six from another socket');
    expect(since(before)).toEqual({ sends: 1, datagrams: 6, fallbacks: 0 });
  });

  it('a real kernel refusal (SO_NO_CHECK: udp_send_skb refuses GSO with EINVAL) falls back cleanly', async () => {
    addon.setOffload!('all', { noCheck: true });
    const t = await bind();
    addon.setOffload!('all');
    const c = await client();
    const data = Array.from({ length: 5 }, (_, i) => bytes(300, i));
    const before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 5, 'five datagrams');
    expect(c.received.map((r) => r.data)).toEqual(data);
    expect(since(before)).toEqual({ sends: 0, datagrams: 0, fallbacks: 1 });
    expect(addon.offload!().gsoLastErrno).toBe(EINVAL);
  });

  it('an error of the destination on a GSO run refuses its first datagram only, as a plain sendmmsg would', async () => {
    const sink = new Sink();
    const t = await bind('127.0.0.1', sink);
    const c = await client();
    const data = Array.from({ length: 5 }, (_, i) => bytes(40, i));
    addon.setOffload!('all', { gsoErrno: EPERM, count: 1 });
    const before = addon.offload!();
    const refusedAt: number[] = [];
    expect(t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })), (i) => refusedAt.push(i))).toBe(1);
    expect(refusedAt).toEqual([0]); // which one: the addon marks it (an unconnected socket has no errno word)
    await waitFor(() => c.received.length === 4, 'four datagrams');
    expect(c.received.map((r) => r.data)).toEqual(data.slice(1));
    expect(t.stats.refused).toBe(1);
    expect(sink.errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['EPERM']);
    expect(since(before)).toEqual({ sends: 1, datagrams: 4, fallbacks: 0 });
  });

  it('udp sessions: one GSO send per session run; a refused run gives only its first packet retryable', async () => {
    const { t: backend, sink } = await plainReceiver();
    const up = createNativeUpstreams(addon);
    const link = up.open({ address: '127.0.0.1', port: backend.local.port, family: 4, label: 'b' }, { reply: () => {}, foreign: () => {}, error: () => {} });
    try {
      const pkt = (data: Buffer): Packet => ({ tag: 't', listener: 'l', remote: { address: '127.0.0.1', port: 1 }, local: { address: '127.0.0.1', port: 2 }, receivedAt: 0, data, formatter: 'base64' });
      const data = Array.from({ length: 20 }, (_, i) => bytes(i < 19 ? 120 : 9, i));
      let before = addon.offload!();
      let r = await up.relay(data.map(pkt), () => ({ upstream: link }));
      expect(r.outcomes.every((o) => o.status === 'delivered')).toBe(true);
      await waitFor(() => sink.count === 20, 'twenty datagrams');
      expect(sink.all.map((d) => d.data)).toEqual(data);
      expect(since(before)).toEqual({ sends: 1, datagrams: 20, fallbacks: 0 });
      addon.setOffload!('all', { gsoErrno: EPERM, count: 1 });
      before = addon.offload!();
      r = await up.relay(data.slice(0, 3).map(pkt), () => ({ upstream: link }));
      expect(r.outcomes.map((o) => o.status)).toEqual(['retryable', 'delivered', 'delivered']);
      expect(r.outcomes[0]).toMatchObject({ reason: 'udp send failed: send EPERM' });
      await waitFor(() => sink.count === 22, 'two more');
      expect(sink.all.slice(20).map((d) => d.data)).toEqual(data.slice(1, 3));
      expect(since(before)).toEqual({ sends: 1, datagrams: 2, fallbacks: 0 });
    } finally {
      await up.close(link);
    }
  });

  it('offload off: the same batch leaves as plain datagrams', async () => {
    addon.setOffload!('off');
    const t = await bind();
    const c = await client();
    const data = Array.from({ length: 10 }, (_, i) => bytes(100, i));
    const before = addon.offload!();
    t.sendDatagrams(data.map((d) => ({ data: d, address: '127.0.0.1', port: c.port })));
    await waitFor(() => c.received.length === 10, 'ten datagrams');
    expect(c.received.map((r) => r.data)).toEqual(data);
    expect(since(before)).toEqual({ sends: 0, datagrams: 0, fallbacks: 0 });
  });

  it('the fallbacks of this file (several sockets, several errnos) gave one process warning', async () => {
    await new Promise((r) => setImmediate(r)); // process.emitWarning emits on the next tick
    expect(addon.offload!().gsoFallbacks).toBeGreaterThanOrEqual(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^udp GSO refused by the kernel \((EMSGSIZE|EIO|EINVAL)\)/);
  });

  it('bad arguments to setOffload never throw and mean the default mode', () => {
    const dflt = addon.setOffload!(undefined).mode;
    expect(['off', 'gso', 'gro', 'all']).toContain(dflt);
    for (const bad of ['bogus', '', 'ALL', 42, null, {}] as unknown[]) {
      expect(addon.setOffload!(bad as string, { gsoErrno: 'x', count: -1 } as never).mode).toBe(dflt);
    }
  });
});
}
