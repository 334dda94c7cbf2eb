/**
 * Receive coalescing on native listener sockets (native/udp_poll.c, a listener's
 * `receiveCoalesceMicros`): once a wake-up finds two or more datagrams, readable events are
 * switched off and a periodic timer reads the socket instead, until a read finds fewer; then the
 * socket is read on every datagram again. Real sockets on 127.0.0.1; the addon's own counters
 * (times coalescing began, timer wake-ups, active) prove which path delivered a datagram.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { BindOptions, TransportFactory } from '../../gateway/extension/transport.js';
import type { Datagram } from '../../gateway/packet.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport, type NativeTransport } from '../../net/native.js';
import { Sink, sleep, waitFor } from './helpers.js';
import { describeTransportContract } from './transport-contract.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram' && !!loadNativeAddon().addon;
const HOST = '127.0.0.1';
const payload = (i: number) => Buffer.from(`datagram ${i} `.padEnd(40, String.fromCharCode(97 + (i % 26))));

describe.skipIf(!required)('native transport: receive coalescing', () => {
  const open: NativeTransport[] = [];
  afterEach(async () => { await Promise.all(open.splice(0).map((t) => t.close())); });

  async function bind(sink: Sink, extra: Partial<BindOptions> = {}): Promise<NativeTransport> {
    const t = (await nativeTransport.bind({ host: HOST, port: 0, maxDatagramBytes: 1500, ...extra }, sink.onBatch, sink.onError)) as NativeTransport;
    open.push(t);
    return t;
  }
  const to = (t: NativeTransport, from: number, n: number): Datagram[] =>
    Array.from({ length: n }, (_, i) => ({ data: payload(from + i), address: HOST, port: t.local.port }));

  it('is off unless configured: a burst is read on its readable event and the timer never starts', async () => {
    const sink = new Sink();
    const rx = await bind(sink);
    const tx = await bind(new Sink());
    expect(tx.sendDatagrams(to(rx, 0, 10))).toBe(0);
    await waitFor(() => sink.count === 10, '10 datagrams');
    expect(rx.coalescing()).toEqual({ starts: 0, ticks: 0, active: false });
  });

  it('a wake-up with 2+ datagrams switches to timed reads; a datagram then waits for the tick; a quiet tick switches back', async () => {
    const PERIOD_US = 50_000; // long, so the order of readable event and tick is not left to chance
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: PERIOD_US });
    const tx = await bind(new Sink());
    tx.sendDatagrams(to(rx, 0, 5)); // one sendmmsg: five datagrams wait when the socket wakes up
    await waitFor(() => sink.count === 5, 'the first burst');
    expect(rx.coalescing()).toEqual({ starts: 1, ticks: 0, active: true });

    tx.sendDatagrams(to(rx, 5, 3));
    await waitFor(() => sink.count === 8, 'three datagrams read by the timer');
    // Delivered by a timer wake-up, not a readable event: the tick count moved before they arrived.
    const after = rx.coalescing();
    expect(after.ticks).toBe(1);
    expect(after.active).toBe(true); // that tick found 3 >= 2: stays coalescing
    expect(sink.batches.at(-1)!.map((d) => d.data.toString())).toEqual([5, 6, 7].map((i) => payload(i).toString()));

    await waitFor(() => !rx.coalescing().active, 'the quiet tick to switch coalescing off', 2000);
    expect(rx.coalescing().ticks).toBe(2);

    // Back on readable events: a lone datagram arrives without a tick, and one datagram does not
    // start coalescing again.
    tx.sendDatagrams(to(rx, 8, 1));
    await waitFor(() => sink.count === 9, 'the lone datagram');
    expect(rx.coalescing()).toEqual({ starts: 1, ticks: 2, active: false });
  });

  it('coalesceMinDatagrams is 2: a wake-up with a single datagram never starts the timer', async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 1000 });
    const tx = await bind(new Sink());
    for (let i = 0; i < 20; i++) {
      tx.sendDatagrams(to(rx, i, 1));
      await waitFor(() => sink.count === i + 1, `datagram ${i}`);
    }
    expect(rx.coalescing().starts).toBe(0);
  });

  it('under a steady stream every datagram arrives once, in order, with its bytes and source', async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 300 });
    const tx = await bind(new Sink());
    const N = 3000;
    for (let i = 0; i < N; i += 30) {
      tx.sendDatagrams(to(rx, i, 30));
      if (i % 300 === 0) await sleep(1);
    }
    await waitFor(() => sink.count === N, `${N} datagrams`, 10_000);
    const all = sink.all;
    expect(all.map((d) => d.data.toString())).toEqual(Array.from({ length: N }, (_, i) => payload(i).toString()));
    expect(new Set(all.map((d) => `${d.address}:${d.port}`))).toEqual(new Set([`${HOST}:${tx.local.port}`]));
    const c = rx.coalescing();
    expect(c.starts).toBeGreaterThanOrEqual(1);
    expect(c.ticks).toBeGreaterThanOrEqual(1);
    expect(sink.errors).toEqual([]);
  });

  it('pause() while coalescing stops the timer; nothing is read until the socket is closed', async () => {
    const PERIOD_US = 40_000;
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: PERIOD_US });
    const tx = await bind(new Sink());
    tx.sendDatagrams(to(rx, 0, 4));
    await waitFor(() => sink.count === 4, 'the burst');
    expect(rx.coalescing()).toEqual({ starts: 1, ticks: 0, active: true });
    rx.pause();
    expect(rx.coalescing().active).toBe(false);
    const ticks = rx.coalescing().ticks;
    tx.sendDatagrams(to(rx, 4, 4));
    await sleep((3 * PERIOD_US) / 1000); // three periods: a running timer would have read them
    expect(sink.count).toBe(4);
    expect(rx.coalescing().ticks).toBe(ticks);
  });

  it('close() while coalescing frees the timer: no file descriptor is left open', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const sink = new Sink();
    const tx = await bind(new Sink());
    const before = fds();
    for (let round = 0; round < 5; round++) {
      const rx = (await nativeTransport.bind({ host: HOST, port: 0, maxDatagramBytes: 1500, receiveCoalesceMicros: 50_000 }, sink.onBatch, sink.onError)) as NativeTransport;
      tx.sendDatagrams(to(rx, 0, 3));
      await waitFor(() => sink.count === 3 * (round + 1), 'the burst');
      expect(rx.coalescing().active).toBe(true);
      await rx.close();
    }
    await waitFor(() => fds() === before, 'the sockets and timers of closed transports to be released');
    expect(fds()).toBe(before);
  });

  it('the addon refuses coalescing values out of range', async () => {
    await expect(nativeTransport.bind({ host: HOST, port: 0, maxDatagramBytes: 1500, receiveCoalesceMicros: -1 }, () => {}, () => {}))
      .rejects.toThrow(/coalesceMicros must be 0\.\.1000000/);
  });

  const coalescing: TransportFactory = {
    kind: 'native',
    bind: (opts, onBatch, onError) => nativeTransport.bind({ ...opts, receiveCoalesceMicros: 200 }, onBatch, onError),
  };
  describeTransportContract('native, receive coalescing 200 µs', coalescing);
});
