/**
 * UDP GRO in the native addon (native/udp_io.c): with UDP_GRO set the kernel may hand over a run
 * of one flow's datagrams as one buffer (on loopback: whatever a GSO sender sent as one run); the
 * addon cuts it back into datagrams, so JS still gets one entry per datagram with its exact bytes
 * and source. A GSO sender (the addon, offload on) towards GRO receivers; real sockets.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNativeUpstreams } from '../../destinations/udp/native-upstream.js';
import { loadNativeAddon, type NativeAddon, type OffloadStatus } from '../../net/native-addon.js';
import { nativeTransport, type NativeTransport } from '../../net/native.js';
import type { Datagram } from '../../gateway/packet.js';
import { Sink, waitFor } from './helpers.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const addon = loadNativeAddon().addon as NativeAddon;

function since(before: OffloadStatus): { gsoSends: number; gsoDatagrams: number; groRuns: number; groDatagrams: number } {
  const now = addon.offload!();
  return {
    gsoSends: now.gsoSends - before.gsoSends, gsoDatagrams: now.gsoDatagrams - before.gsoDatagrams,
    groRuns: now.groRuns - before.groRuns, groDatagrams: now.groDatagrams - before.groDatagrams,
  };
}

const bytes = (len: number, seed: number) => Buffer.from(Array.from({ length: len }, (_, i) => (seed * 13 + i * 5) & 0xff));
/** Runs of several sizes (the last of each shorter), an empty datagram and singles, in one batch. */
const mixed = (): Buffer[] => [
  ...Array.from({ length: 40 }, (_, i) => bytes(1200, i)), bytes(333, 40),
  ...Array.from({ length: 70 }, (_, i) => bytes(64, 100 + i)),
  bytes(0, 0), bytes(9, 1), bytes(500, 2), bytes(500, 3), bytes(17, 4),
];

// Registered everywhere, skipped (and reported as skipped) where the addon is not required.
describe.skipIf(!required)('GRO (native addon required on Linux unless UDPGW_TRANSPORT=dgram)', describeGro);

function describeGro(): void {
  describe('native transport: UDP GRO', () => {
    const transports: NativeTransport[] = [];
    beforeAll(() => {
      expect(addon.setOffload!('all')).toMatchObject({ gso: true, gro: true });
    });
    afterEach(async () => {
      addon.setOffload!('all');
      await Promise.all(transports.splice(0).map((t) => t.close()));
    });

    async function bind(host: string, sink = new Sink(), maxDatagramBytes = 1500): Promise<NativeTransport> {
      const t = (await nativeTransport.bind({ host, port: 0, maxDatagramBytes, receiveBufferBytes: 4 << 20 }, sink.onBatch, sink.onError)) as NativeTransport;
      transports.push(t);
      return t;
    }
    const to = (data: Buffer[], host: string, port: number): Datagram[] => data.map((d) => ({ data: d, address: host, port }));

    for (const host of ['127.0.0.1', '::1']) {
      it(`${host}: a GSO sender towards a GRO receiver: every datagram once, in order, exact bytes and source`, async () => {
        const sink = new Sink();
        const rx = await bind(host, sink);
        const tx = await bind(host);
        const data = mixed();
        const before = addon.offload!();
        tx.sendDatagrams(to(data, host, rx.local.port));
        await waitFor(() => sink.count === data.length, `${data.length} datagrams`);
        expect(sink.all.map((d) => d.data)).toEqual(data);
        expect(sink.all.every((d) => d.address === host && d.port === tx.local.port)).toBe(true);
        // Runs: 40x1200+333 (41), 64x64, 6x64, 500+500+17; on loopback each arrives as one GRO run.
        expect(since(before)).toEqual({ gsoSends: 4, gsoDatagrams: 114, groRuns: 4, groDatagrams: 114 });
        expect(rx.stats.truncated).toBe(0);
      });
    }

    it('runs longer than one JS batch are handed out over several batches, none lost', async () => {
      const sink = new Sink();
      const rx = await bind('127.0.0.1', sink, 65535); // 128 slots: a batch holds at most 128 datagrams
      const tx = await bind('127.0.0.1');
      const data = Array.from({ length: 320 }, (_, i) => bytes(100, i)); // five runs of 64
      const before = addon.offload!();
      tx.sendDatagrams(to(data, '127.0.0.1', rx.local.port));
      await waitFor(() => sink.count === data.length, '320 datagrams');
      expect(sink.all.map((d) => d.data)).toEqual(data);
      expect(Math.max(...sink.batches.map((b) => b.length))).toBeLessThanOrEqual(128);
      expect(sink.batches.length).toBeGreaterThanOrEqual(3);
      expect(since(before)).toMatchObject({ groRuns: 5, groDatagrams: 320 });
    });

    it('datagrams of a run longer than maxDatagramBytes are cut and counted, as without GRO', async () => {
      const data = Array.from({ length: 10 }, (_, i) => bytes(i < 9 ? 40 : 20, i));
      const results: { data: Buffer[]; truncated: number }[] = [];
      for (const mode of ['all', 'gso'] as const) { // GRO on, then off, at the receiver
        addon.setOffload!(mode);
        const sink = new Sink();
        const rx = await bind('127.0.0.1', sink, 16);
        addon.setOffload!('all');
        const tx = await bind('127.0.0.1');
        tx.sendDatagrams(to(data, '127.0.0.1', rx.local.port));
        await waitFor(() => sink.count === data.length, 'ten datagrams');
        results.push({ data: sink.all.map((d) => d.data), truncated: rx.stats.truncated });
      }
      expect(results[0]).toEqual({ data: data.map((d) => d.subarray(0, 16)), truncated: 10 });
      expect(results[1]).toEqual(results[0]);
    });

    it('udp sessions: replies sent as GSO runs reach each session split into datagrams (a shared 32-slot slab)', async () => {
      // The backend answers every request with `count` datagrams in one batch (GSO runs).
      const backendSink = new Sink();
      const backend = await bind('127.0.0.1', backendSink);
      const replies = (seed: number) => Array.from({ length: 100 }, (_, i) => bytes(i < 99 ? 150 : 11, seed + i));
      const up = createNativeUpstreams(addon);
      const got: Buffer[][] = [[], []];
      const links = [0, 1].map((k) => up.open({ address: '127.0.0.1', port: backend.local.port, family: 4, label: 'b' },
        { reply: (d) => got[k]!.push(Buffer.from(d)), foreign: () => {}, error: () => {} }));
      try {
        const pkt = (k: number) => ({ tag: 't', listener: 'l', remote: { address: '127.0.0.1', port: k + 1 }, local: { address: '127.0.0.1', port: 2 }, receivedAt: 0, data: Buffer.from([k]), formatter: 'base64' as const });
        await up.relay([pkt(0), pkt(1)], (p) => ({ upstream: links[p.remote.port - 1]! }));
        await waitFor(() => backendSink.count === 2, 'two requests');
        const before = addon.offload!();
        backend.sendDatagrams(backendSink.all.flatMap((d) => to(replies(d.data[0]! * 1000), d.address, d.port)));
        await waitFor(() => got[0]!.length === 100 && got[1]!.length === 100, '100 replies each');
        expect(got[0]).toEqual(replies(0));
        expect(got[1]).toEqual(replies(1000));
        expect(since(before)).toEqual({ gsoSends: 4, gsoDatagrams: 200, groRuns: 4, groDatagrams: 200 });
      } finally {
        await Promise.all(links.map((l) => up.close(l)));
      }
    });

    it('GRO off: the kernel splits the runs itself and the addon counts none', async () => {
      addon.setOffload!('gso');
      const sink = new Sink();
      const rx = await bind('127.0.0.1', sink);
      const tx = await bind('127.0.0.1');
      const data = mixed();
      const before = addon.offload!();
      tx.sendDatagrams(to(data, '127.0.0.1', rx.local.port));
      await waitFor(() => sink.count === data.length, `${data.length} datagrams`);
      expect(sink.all.map((d) => d.data)).toEqual(data);
      expect(since(before)).toEqual({ gsoSends: 4, gsoDatagrams: 114, groRuns: 0, groDatagrams: 0 });
    });
  });
}
