/**
 * Receive coalescing on native listener sockets (native/udp_poll.c, a listener's
 * `receiveCoalesceMicros`): once 8 readable wake-ups after a first one come less than half an
 * interval apart on average, readable events are switched off and a periodic timer reads the socket
 * instead; it switches back when the ticks find less than one datagram each on average, and every
 * 256 ticks to measure the wake-ups again. Real sockets on 127.0.0.1; the addon's own counters
 * (times coalescing began, timer wake-ups, active, readable wake-ups) prove which path delivered a
 * datagram.
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
/** Readable wake-ups after a first one, less than half an interval apart on average, that start the timer. */
const START_WAKEUPS = 8;
/** Ticks after which the wake-ups are measured again (coalescing stops, and resumes if it still pays). */
const PROBE_TICKS = 256;

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

  /** `n` single datagrams, each read by a wake-up of its own (the next leaves once it arrived,
   * some milliseconds later: dense for an interval of 100 ms, whose half is 50 ms). */
  async function singles(tx: NativeTransport, rx: NativeTransport, sink: Sink, from: number, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const want = sink.count + 1;
      tx.sendDatagrams(to(rx, from + i, 1));
      await waitFor(() => sink.count === want, `datagram ${from + i}`);
    }
  }

  it('is off unless configured: dense wake-ups are read on their readable events and the timer never starts', async () => {
    const sink = new Sink();
    const rx = await bind(sink);
    const tx = await bind(new Sink());
    await singles(tx, rx, sink, 0, 2 * START_WAKEUPS);
    expect(rx.coalescing()).toEqual({ starts: 0, ticks: 0, active: false, wakeups: 2 * START_WAKEUPS });
  });

  it('a burst read in one wake-up does not start it', async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 100_000 });
    const tx = await bind(new Sink());
    tx.sendDatagrams(to(rx, 0, 50)); // one sendmmsg: fifty datagrams wait when the socket wakes up
    await waitFor(() => sink.count === 50, 'the burst');
    expect(rx.coalescing()).toMatchObject({ starts: 0, ticks: 0, active: false });
  });

  it(`${START_WAKEUPS} dense wake-ups after the first start it; a datagram then waits for the tick; empty ticks switch back`, async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 100_000 });
    const tx = await bind(new Sink());
    await singles(tx, rx, sink, 0, START_WAKEUPS); // the first has no wake-up before it: 7 dense ones
    expect(rx.coalescing()).toEqual({ starts: 0, ticks: 0, active: false, wakeups: START_WAKEUPS });
    await singles(tx, rx, sink, START_WAKEUPS, 1); // the 8th dense wake-up
    expect(rx.coalescing()).toEqual({ starts: 1, ticks: 0, active: true, wakeups: START_WAKEUPS + 1 });

    tx.sendDatagrams(to(rx, 20, 3));
    await waitFor(() => sink.count === START_WAKEUPS + 4, 'three datagrams read by the timer');
    const after = rx.coalescing();
    expect(after).toMatchObject({ ticks: 1, active: true, wakeups: START_WAKEUPS + 1 }); // a tick read them, no readable event
    expect(sink.batches.at(-1)!.map((d) => d.data.toString())).toEqual([20, 21, 22].map((i) => payload(i).toString()));

    // The average of datagrams per tick (4 when it starts) falls below one after a few empty ticks.
    await waitFor(() => !rx.coalescing().active, 'empty ticks to switch coalescing off', 3000);
    expect(rx.coalescing().ticks).toBeGreaterThanOrEqual(4);
    expect(rx.coalescing().ticks).toBeLessThanOrEqual(7);

    // Back on readable events: a lone datagram arrives without a tick.
    const ticks = rx.coalescing().ticks;
    await singles(tx, rx, sink, 30, 1);
    expect(rx.coalescing()).toMatchObject({ starts: 1, ticks, active: false, wakeups: START_WAKEUPS + 2 });
  });

  it('wake-ups further apart than half an interval never start it', async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 40_000 }); // half: 20 ms
    const tx = await bind(new Sink());
    for (let i = 0; i < 3 * START_WAKEUPS; i++) { // about 30 ms apart: 3/4 of an interval
      await singles(tx, rx, sink, i, 1);
      await sleep(25);
    }
    expect(rx.coalescing()).toMatchObject({ starts: 0, ticks: 0, wakeups: 3 * START_WAKEUPS });
  });

  it(`every ${PROBE_TICKS} ticks the wake-ups are measured again: under a steady stream it stops, then resumes`, async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 1000 });
    const tx = await bind(new Sink());
    // A datagram every turn of the event loop (the receiver wakes up on each: dense for 1 ms),
    // bounded in count and time.
    const until = Date.now() + 5000;
    let sent = 0;
    await new Promise<void>((done) => {
      const step = () => {
        tx.sendDatagrams(to(rx, sent, 1));
        sent++;
        if (rx.coalescing().starts >= 2 || sent >= 200_000 || Date.now() > until) done();
        else setImmediate(step);
      };
      step();
    });
    await waitFor(() => sink.count === sent, `${sent} datagrams`);
    const c = rx.coalescing();
    expect(c.starts).toBe(2);
    expect(c.ticks).toBeGreaterThanOrEqual(PROBE_TICKS);
    expect(c.ticks).toBeLessThan(2 * PROBE_TICKS);
    expect(sink.all.map((d) => d.data.toString())).toEqual(Array.from({ length: sent }, (_, i) => payload(i).toString()));
  });

  it('under a steady stream every datagram arrives once, in order, with its bytes and source', async () => {
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: 300 });
    const tx = await bind(new Sink());
    const N = 3000;
    for (let i = 0; i < N; i += 30) { // thirty a turn of the event loop: dense wake-ups
      tx.sendDatagrams(to(rx, i, 30));
      await new Promise((r) => setImmediate(r));
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
    const PERIOD_US = 100_000;
    const sink = new Sink();
    const rx = await bind(sink, { receiveCoalesceMicros: PERIOD_US });
    const tx = await bind(new Sink());
    await singles(tx, rx, sink, 0, START_WAKEUPS + 1);
    expect(rx.coalescing()).toMatchObject({ starts: 1, ticks: 0, active: true });
    rx.pause();
    expect(rx.coalescing().active).toBe(false);
    const ticks = rx.coalescing().ticks;
    tx.sendDatagrams(to(rx, 20, 4));
    await sleep((3 * PERIOD_US) / 1000); // three periods: a running timer would have read them
    expect(sink.count).toBe(START_WAKEUPS + 1);
    expect(rx.coalescing().ticks).toBe(ticks);
  });

  it('close() while coalescing frees the timer: no file descriptor is left open', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const sink = new Sink();
    const tx = await bind(new Sink());
    const before = fds();
    for (let round = 0; round < 5; round++) {
      const rx = (await nativeTransport.bind({ host: HOST, port: 0, maxDatagramBytes: 1500, receiveCoalesceMicros: 100_000 }, sink.onBatch, sink.onError)) as NativeTransport;
      await singles(tx, rx, sink, 0, START_WAKEUPS + 1);
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
