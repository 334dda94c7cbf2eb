/**
 * The native (recvmmsg/sendmmsg) transport. On Linux the addon is part of the product: if it is not
 * built these tests fail loudly, unless UDPGW_TRANSPORT=dgram says this run deliberately goes
 * without it (then only the fallback is checked). Elsewhere the addon is not expected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport, type NativeTransport } from '../../net/native.js';
import { selectTransport } from '../../net/select.js';
import { Sink, closeClient, openClient, waitFor, type Client } from './helpers.js';
import { describeTransportContract } from './transport-contract.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const quiet = { info: () => {} };

// Registered everywhere, skipped (and reported as skipped) where the addon is not required.
describe.skipIf(!required)('native addon (required on Linux unless UDPGW_TRANSPORT=dgram)', () => {
  it('the native addon is built and loads (npm install runs node-gyp; see docs/performance.md)', () => {
    const load = loadNativeAddon();
    expect(load.addon ? 'loaded' : load.reason).toBe('loaded');
  });
  describeTransportContract('native', nativeTransport);
  describeNativeOnly();
});
if (!required) {
  it('without the addon requirement, auto selects a working transport', () => {
    const factory = selectTransport('auto', quiet);
    expect(['native', 'dgram']).toContain(factory.kind);
    expect(factory.kind === 'native').toBe(loadNativeAddon().addon !== undefined);
  });
}

function describeNativeOnly(): void {
  describe('native transport specifics', () => {
    const transports: NativeTransport[] = [];
    const clients: Client[] = [];
    afterEach(async () => {
      await Promise.all(transports.splice(0).map((t) => t.close()));
      await Promise.all(clients.splice(0).map(closeClient));
    });

    async function bind(sink: Sink, opts: { port?: number; reusePort?: boolean; maxDatagramBytes?: number } = {}): Promise<NativeTransport> {
      const t = (await nativeTransport.bind({ host: '127.0.0.1', port: 0, maxDatagramBytes: 1500, ...opts }, sink.onBatch, sink.onError)) as NativeTransport;
      transports.push(t);
      return t;
    }

    it('a bad destination is refused and counted, the rest of the batch still leaves, one error reported', async () => {
      const sink = new Sink();
      const t = await bind(sink);
      const c = await openClient('udp4', '127.0.0.1');
      clients.push(c);
      t.sendDatagrams([
        { data: Buffer.from('one'), address: '127.0.0.1', port: c.port },
        { data: Buffer.from('bad'), address: 'not-an-address', port: c.port },
        { data: Buffer.from('bad-port'), address: '127.0.0.1', port: 0 },
        { data: Buffer.from('v6-from-v4-socket'), address: '::1', port: c.port },
        { data: Buffer.from('two'), address: '127.0.0.1', port: c.port },
      ]);
      await waitFor(() => c.received.length === 2, 'two good sends');
      expect(c.received.map((r) => r.data.toString())).toEqual(['one', 'two']);
      expect(t.stats.refused).toBe(3);
      expect(sink.errors).toHaveLength(1);
      expect(sink.errors[0]?.message).toMatch(/refused 3 datagram/);
    });

    it('counts truncated datagrams', async () => {
      const sink = new Sink();
      const t = await bind(sink, { maxDatagramBytes: 4 });
      const c = await openClient('udp4', '127.0.0.1');
      clients.push(c);
      await c.send('abcdefgh', t.local.port, '127.0.0.1');
      await c.send('abc', t.local.port, '127.0.0.1');
      await waitFor(() => sink.count === 2, 'two datagrams');
      expect(sink.all.map((d) => d.data.toString())).toEqual(['abcd', 'abc']);
      expect(t.stats.truncated).toBe(1);
    });

    it('a batch larger than one send slab (1024 datagrams) is sent whole and in order', async () => {
      const sink = new Sink();
      const t = await bind(sink);
      const c = await openClient('udp4', '127.0.0.1');
      clients.push(c);
      c.socket.setRecvBufferSize(4 << 20);
      const n = 1500;
      t.sendDatagrams(Array.from({ length: n }, (_, i) => ({ data: Buffer.from(String(i)), address: '127.0.0.1', port: c.port })));
      await waitFor(() => c.received.length === n, `${n} datagrams`);
      expect(c.received.map((r) => Number(r.data.toString()))).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(t.stats).toEqual({ truncated: 0, refused: 0, backlogDropped: 0 });
    });

    it('small batches share pooled receive buffers; kept packets stay intact across pool chunks', async () => {
      const sink = new Sink();
      const t = await bind(sink);
      const c = await openClient('udp4', '127.0.0.1');
      clients.push(c);
      const n = 1500, size = 100; // 150 KB: more than two 64 KiB pool chunks
      const payload = (i: number) => Buffer.alloc(size, String(i % 10)).fill(`#${i}#`, 0, String(i).length + 2);
      for (let i = 0; i < n; i++) {
        await c.send(payload(i), t.local.port, '127.0.0.1');
        await new Promise((r) => setImmediate(r)); // a poll phase in between: small batches
      }
      await waitFor(() => sink.count === n, `${n} datagrams`);
      const all = sink.all;
      expect(all.every((d, i) => d.data.equals(payload(i)))).toBe(true);
      const chunks = new Set(all.map((d) => d.data.buffer));
      // One ArrayBuffer per chunk, not per recvmmsg batch (what the garbage collector has to sweep).
      expect(sink.batches.length).toBeGreaterThan(3 * chunks.size);
      expect(chunks.size).toBeGreaterThanOrEqual(3);
    });

    it('a batch too large for the pool gets a buffer of its own, intact', async () => {
      const sink = new Sink();
      const t = await bind(sink);
      const c = await openClient('udp4', '127.0.0.1');
      clients.push(c);
      const n = 200;
      // Sent in one turn of the loop: they wait in the socket and arrive in few large batches.
      for (let i = 0; i < n; i++) c.socket.send(Buffer.alloc(1400, i), t.local.port, '127.0.0.1');
      await waitFor(() => sink.count === n, `${n} datagrams`);
      expect(sink.all.every((d, i) => d.data.equals(Buffer.alloc(1400, i)))).toBe(true);
      const large = sink.batches.filter((b) => b.length * 1400 > 16 * 1024);
      expect(large.length).toBeGreaterThan(0);
      for (const b of large) expect(b[0]!.data.buffer.byteLength).toBe(b.length * 1400);
    });

    it('SO_REUSEPORT spreads clients over the sockets sharing a port', async () => {
      const a = new Sink(), b = new Sink();
      const first = await bind(a, { reusePort: true });
      await bind(b, { port: first.local.port, reusePort: true });
      const n = 32;
      for (let i = 0; i < n; i++) {
        const c = await openClient('udp4', '127.0.0.1');
        clients.push(c);
        await c.send(`c${i}`, first.local.port, '127.0.0.1');
      }
      await waitFor(() => a.count + b.count === n, `${n} datagrams over two sockets`);
      // The kernel hashes each client's 4-tuple to one socket: with 32 clients both get some
      // (all on one side has probability 2^-31).
      expect(a.count).toBeGreaterThan(0);
      expect(b.count).toBeGreaterThan(0);
    });
  });
}
