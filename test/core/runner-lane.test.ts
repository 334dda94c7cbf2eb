/**
 * The runner's memory lane on values (gateway/fanout/runner.ts): a destination the test answers by
 * hand, fake timers, counters read from the registry. Which packets go in which batch and when
 * (linger, maxPackets, maxBytes, the destination's own sizes), the in-flight limit, retries, final
 * failures and their dead-letter reasons, replies, latency, drops, gauges and status. Draining:
 * runner-drain.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handDestination, makeRunner, memoryDeadLetter, packet, settle, syncDestination } from '../support/runner-harness.js';

beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(10_000); });
afterEach(() => { vi.useRealTimers(); });

describe('runner: batching', () => {
  it('a batch waits lingerMs for more packets; a full batch (maxPackets) goes at once and restarts the linger', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 50, maxPackets: 3 });
    expect([runner.enqueue(packet('a')), runner.enqueue(packet('b'))]).toEqual([true, true]);
    await settle(49);
    expect(dest.calls).toHaveLength(0);
    await settle(1);
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b']]);
    runner.enqueue(packet('c'));
    await settle(20);
    runner.enqueue(packet('d'));
    runner.enqueue(packet('e')); // three: full, sent within the call
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    runner.enqueue(packet('f')); // its own linger, not what is left of c's
    await settle(49);
    expect(dest.calls).toHaveLength(2);
    await settle(1);
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('the queue goes out once it holds maxBytes; a batch takes what fits and the rest lingers', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 50, maxBytes: 8 });
    runner.enqueue(packet('aaaa'));
    expect(dest.calls).toHaveLength(0);
    runner.enqueue(packet('bbbb')); // exactly maxBytes
    expect(dest.calls.map((c) => c.names)).toEqual([['aaaa', 'bbbb']]);
    runner.enqueue(packet('ccccc'));
    runner.enqueue(packet('ddddd')); // 10 bytes: ccccc goes, ddddd does not fit with it
    expect(dest.calls.map((c) => c.names)).toEqual([['aaaa', 'bbbb'], ['ccccc']]);
    await settle(49);
    expect(dest.calls).toHaveLength(2);
    await settle(1);
    expect(dest.calls.map((c) => c.names)).toEqual([['aaaa', 'bbbb'], ['ccccc'], ['ddddd']]);
  });

  it('a packet larger than batch.maxBytes, without a destination limit, is sent alone rather than dropped', async () => {
    const dest = handDestination();
    const { runner, drops } = makeRunner(dest, { lingerMs: 50, maxBytes: 4 });
    expect(runner.enqueue(packet('aa'))).toBe(true);
    expect(runner.enqueue(packet('bbbbbbbbbb'))).toBe(true);
    expect(dest.calls.map((c) => c.names)).toEqual([['aa'], ['bbbbbbbbbb']]);
    expect(await drops('oversize')).toBe(0);
  });

  it('a destination that sizes packets its own way (packetBytes): batches are cut by its sizes', async () => {
    const dest = handDestination({ limits: { packetBytes: (p) => p.data.length + 10 } });
    const { runner, drops } = makeRunner(dest, { lingerMs: 50, maxBytes: 30 });
    for (const n of ['a', 'b', 'c']) expect(runner.enqueue(packet(n))).toBe(true);
    expect(dest.calls).toHaveLength(0); // 3 bytes as the queue counts them
    await settle(50);
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b']]); // 11 + 11 + 11 > 30
    await settle(50);
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b'], ['c']]);
    expect(await drops('oversize')).toBe(0); // no packet limit declared: nothing is sized on enqueue
  });

  it.each([
    ['maxPacketBytes', { maxPacketBytes: 4 }],
    ['maxBatchBytes', { maxBatchBytes: 4 }],
  ])('a packet over the destination\'s %s is dropped on enqueue, counted as oversize; one of exactly the limit is sent', async (_n, limits) => {
    const dest = handDestination({ limits });
    const { runner, drops } = makeRunner(dest, { lingerMs: 0 });
    expect(runner.enqueue(packet('aaaaa'))).toBe(false);
    expect(runner.enqueue(packet('bbbb'))).toBe(true);
    await settle();
    expect(dest.calls.map((c) => c.names)).toEqual([['bbbb']]);
    expect(await drops('oversize')).toBe(1);
  });

  it('with lingerMs > 0, flush() sends nothing early: the linger decides', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 50 });
    runner.hold();
    runner.enqueue(packet('a'));
    runner.flush(10_000);
    expect(dest.calls).toHaveLength(0);
    await settle(50);
    expect(dest.calls.map((c) => c.names)).toEqual([['a']]);
  });

  it('flush() takes over a pending setImmediate: the packets go in the call, and a later packet still gets its own wake-up', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 0 });
    runner.enqueue(packet('a')); // outside a receive batch: a setImmediate is pending
    runner.hold(); runner.enqueue(packet('b')); runner.flush();
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b']]);
    runner.enqueue(packet('c'));
    await settle();
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b'], ['c']]);
  });

  it('with lingerMs 0 a packet enqueued outside a receive batch goes on the next turn (setImmediate), once', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 0 });
    runner.enqueue(packet('a'));
    runner.enqueue(packet('b'));
    expect(dest.calls).toHaveLength(0);
    await settle();
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b']]);
  });
});

describe('runner: in-flight limit', () => {
  it('at most inFlight batches at once; each answer lets the next batch go, in order', async () => {
    const dest = handDestination();
    const { runner, c, gauges } = makeRunner(dest, { inFlight: 2, maxPackets: 1 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) expect(runner.enqueue(packet(n))).toBe(true);
    expect(dest.calls.map((x) => x.names)).toEqual([['a'], ['b']]);
    expect([runner.inFlight, runner.queued]).toEqual([2, 3]);
    expect(await gauges()).toMatchObject({ queued: 3, inFlight: 2 });
    await settle(1000);
    expect(dest.calls).toHaveLength(2); // nothing more while both are out
    dest.calls[0]!.answer('delivered');
    await settle();
    expect(dest.calls.map((x) => x.names)).toEqual([['a'], ['b'], ['c']]);
    dest.calls[2]!.answer('delivered');
    await settle();
    dest.calls[1]!.answer('delivered');
    await settle();
    expect(dest.calls.map((x) => x.names)).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(runner.inFlight).toBe(2);
    dest.open().forEach((x) => x.answer('delivered'));
    await settle();
    expect(await gauges()).toMatchObject({ queued: 0, inFlight: 0 });
    expect([await c('delivered_total'), await c('batches_total')]).toEqual([5, 5]);
  });

  it('a packet enqueued while the in-flight limit is reached starts its linger only when a batch ends', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { inFlight: 1, lingerMs: 50 });
    runner.enqueue(packet('a'));
    await settle(50);
    await settle(10);
    runner.enqueue(packet('b')); // t = 60, a in flight
    await settle(20);
    dest.calls[0]!.answer('delivered'); // t = 80: b's linger starts now
    await settle(49);
    expect(dest.calls).toHaveLength(1);
    await settle(1);
    expect(dest.calls.map((c) => c.names)).toEqual([['a'], ['b']]);
  });

  it('what queued while the one batch was in flight goes as one batch when it ends', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { inFlight: 1, lingerMs: 0 });
    runner.hold(); runner.enqueue(packet('a')); runner.flush();
    expect(dest.calls.map((x) => x.names)).toEqual([['a']]);
    runner.hold(); runner.enqueue(packet('b')); runner.enqueue(packet('c')); runner.flush();
    await settle();
    expect(dest.calls).toHaveLength(1);
    dest.calls[0]!.answer('delivered');
    await settle();
    expect(dest.calls.map((x) => x.names)).toEqual([['a'], ['b', 'c']]);
  });

  it('a full queue drops the packet, counted as queue-full, and keeps what it holds', async () => {
    const dest = handDestination();
    const { runner, drops } = makeRunner(dest, { queue: 2, lingerMs: 50 });
    expect([runner.enqueue(packet('a')), runner.enqueue(packet('b')), runner.enqueue(packet('c'))]).toEqual([true, true, false]);
    expect(await drops('queue-full')).toBe(1);
    await settle(50);
    expect(dest.calls.map((x) => x.names)).toEqual([['a', 'b']]);
  });
});

describe('runner: outcomes', () => {
  it('retryable packets are sent again alone after the backoff; final failures are dead-lettered with their reasons counted', async () => {
    const dest = handDestination();
    const dl = memoryDeadLetter();
    const { runner, c, lines } = makeRunner(dest, { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 }, { deadLetter: dl });
    for (const n of ['a', 'b', 'c', 'd', 'e']) runner.enqueue(packet(n));
    await settle();
    dest.calls[0]!.answer(['delivered', 'retryable', { status: 'failed', reason: 'bad' }, { status: 'failed', reason: 'worse' }, { status: 'failed', reason: 'bad' }]);
    await settle(10);
    expect(dest.calls.map((x) => x.names)).toEqual([['a', 'b', 'c', 'd', 'e'], ['b']]);
    expect(dl.written).toEqual([]); // the batch's outcomes come together, after its retries
    dest.calls[1]!.answer('delivered');
    await settle();
    expect(dl.written).toEqual([{ names: ['c', 'd', 'e'], reason: 'bad (x2); worse (x1)' }]);
    expect(lines.filter((l) => l.msg === 'delivery failed').map((l) => l.obj)).toEqual([{ packets: 3, reason: 'bad (x2); worse (x1)', deadLetter: true }]);
    expect(await Promise.all(['delivered_total', 'failed_total', 'retried_total', 'batches_total', 'dead_lettered_total'].map(c))).toEqual([2, 3, 1, 2, 3]);
  });

  it('a rejected send makes the whole batch retryable; after the last attempt it fails with the error as reason', async () => {
    const dest = handDestination();
    const dl = memoryDeadLetter();
    const { runner, c, lines } = makeRunner(dest, { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 }, { deadLetter: dl });
    runner.enqueue(packet('a')); runner.enqueue(packet('b'));
    await settle();
    dest.calls[0]!.fail(new Error('down'));
    await settle(10);
    dest.calls[1]!.fail(new Error('still down'));
    await settle();
    expect(dl.written).toEqual([{ names: ['a', 'b'], reason: 'Error: still down (x2)' }]);
    expect(await Promise.all(['failed_total', 'retried_total', 'batches_total'].map(c))).toEqual([2, 2, 2]);
    expect(lines.filter((l) => l.level === 'error').map((l) => [l.msg, l.obj.deadLetter])).toEqual([['delivery failed', true]]);
  });

  it('without a dead-letter a final failure is logged and counted as failed, nothing else', async () => {
    const dest = handDestination();
    const { runner, c, lines, value } = makeRunner(dest);
    runner.enqueue(packet('a'));
    await settle();
    dest.calls[0]!.answer('failed');
    await settle();
    expect(lines.map((l) => [l.level, l.msg, l.obj])).toEqual([['error', 'delivery failed', { packets: 1, reason: 'failed-0 (x1)', deadLetter: false }]]);
    expect([await c('failed_total'), await c('dead_lettered_total'), await value('udpgw_drops_total')]).toEqual([1, 0, 0]);
  });

  it('replies go to egress with the runner\'s id and are counted; an empty reply list calls nothing', async () => {
    const dest = handDestination();
    const { runner, c, replies } = makeRunner(dest);
    runner.enqueue(packet('a'));
    await settle();
    dest.calls[0]!.answer('delivered', []);
    await settle();
    expect(replies).toEqual([]);
    runner.enqueue(packet('b')); runner.enqueue(packet('c'));
    await settle();
    dest.calls[1]!.answer('delivered', [{ tag: 'tag-b', data: Buffer.from('rb') }, { tag: 'tag-c', data: Buffer.from('rc') }]);
    await settle();
    expect(replies).toEqual([{ tags: ['tag-b', 'tag-c'], destination: 'edge/d' }]);
    expect([await c('replies_total'), await c('delivered_total')]).toEqual([2, 3]);
  });

  it('a throw on the reply path is logged with the destination and the error; the batch still counts as delivered', async () => {
    const dest = handDestination();
    const { runner, lines, c } = makeRunner(dest, {}, { repliesThrow: new Error('egress broke') });
    runner.enqueue(packet('a'));
    await settle();
    dest.calls[0]!.answer('delivered', [{ tag: 'tag-a', data: Buffer.from('r') }]);
    await settle();
    expect(lines.map((l) => [l.level, l.msg, l.obj.destination, (l.obj.err as Error).message])).toEqual([['error', 'finishing a batch failed', 'edge/d', 'egress broke']]);
    expect([await c('delivered_total'), runner.inFlight]).toEqual([1, 0]);
  });

  it('latency is measured from receive to delivered: flush(now) gives the clock, otherwise Date.now()', async () => {
    const sync = syncDestination();
    const { runner, value } = makeRunner(sync, { lingerMs: 0 });
    const lat = async () => [await value('udpgw_destination_delivery_seconds', { destination: 'edge/d' }, 'udpgw_destination_delivery_seconds_sum'), await value('udpgw_destination_delivery_seconds', { destination: 'edge/d' }, 'udpgw_destination_delivery_seconds_count')];
    runner.hold();
    runner.enqueue(packet('a', 9_000)); runner.enqueue(packet('b', 9_500));
    runner.flush(9_750); // 0.75 s and 0.25 s
    expect(await lat()).toEqual([1, 2]);
    runner.enqueue(packet('c', 9_000)); // not in a receive batch: the clock of the flush is gone, Date.now() is 10 000
    await settle();
    expect(await lat()).toEqual([2, 3]);
    const dest = handDestination();
    const r2 = makeRunner(dest, { lingerMs: 0 });
    r2.runner.enqueue(packet('d', 9_000));
    await settle();
    vi.setSystemTime(12_000);
    dest.calls[0]!.answer('delivered');
    await settle();
    expect(await r2.value('udpgw_destination_delivery_seconds', { destination: 'edge/d' }, 'udpgw_destination_delivery_seconds_sum')).toBe(3);
  });
});

describe('runner: status and gauges', () => {
  it('status() and the sessions gauge: count() when the destination has it, else the length of list()', async () => {
    const withCount = handDestination({ sessions: { count: () => 7, list: () => [], end: () => 0 } as never, status: () => ({ workers: 2 }) });
    const a = makeRunner(withCount, { queue: 10 });
    a.runner.enqueue(packet('a'));
    expect(a.runner.status()).toEqual({ listener: 'edge', name: 'd', kind: 'hand', queued: 1, queueCapacity: 10, inFlight: 0, details: { workers: 2 } });
    expect(await a.gauges()).toMatchObject({ sessions: 7, queued: 1 });
    const withList = handDestination({ sessions: { list: () => [{}, {}] } as never });
    const b = makeRunner(withList);
    expect(await b.gauges()).toMatchObject({ sessions: 2 });
    expect(b.runner.status()).not.toHaveProperty('details');
    expect(b.runner.status()).not.toHaveProperty('buffer');
  });
});
