/**
 * The runner's disk-buffer lane while the gateway drains (gateway/fanout/runner.ts with buffer.disk;
 * the lane itself: runner-disk.test.ts): what is on disk stays there uncommitted, what is held or
 * queued goes to the front of the disk past the deadline, disk batches in flight are delivered,
 * aborted or waited for. A disk buffer in memory with the DiskBuffer's contract
 * (test/support/runner-harness.ts), a destination answered by hand, fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handDestination, makeRunner, memoryDeadLetter, MemoryBuffer, packet, settle } from '../support/runner-harness.js';

beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(10_000); });
afterEach(() => { vi.useRealTimers(); });

const sent = (dest: ReturnType<typeof handDestination>) => dest.calls.map((c) => c.names);

describe('runner: draining with a disk buffer', () => {
  it('during an outage the drain does not wait for the next probe: what is on disk stays there, uncommitted, and the buffer is closed', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner } = makeRunner(dest, { maxPackets: 2, maxDelayMs: 60_000 }, { buffer });
    runner.enqueue(packet('a')); runner.enqueue(packet('b'));
    dest.calls[0]!.answer('retryable');
    await settle();
    dest.calls[1]!.answer('retryable'); // the lane's try: it now waits a minute to probe
    await settle();
    let done = false;
    void runner.drain(30_000).then(() => { done = true; });
    await settle();
    expect(done).toBe(true);
    expect(buffer.log).toEqual(['prepend a,b', 'close']);
    expect(buffer.names).toEqual(['a', 'b']);
    expect(dest.calls).toHaveLength(2);
  });

  it('past the deadline, the queue and the batch refused in flight go to the front of the disk, in order', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner, c } = makeRunner(dest, { maxPackets: 1, inFlight: 1 }, { buffer });
    for (const n of ['a', 'b', 'c']) runner.enqueue(packet(n));
    buffer.append(packet('z')); // already on disk, newer
    const drained = runner.drain(100);
    await settle(100);
    expect(dest.calls[0]!.signal.aborted).toBe(true);
    expect(buffer.log).toEqual(['append z', 'prepend b,c']);
    dest.calls[0]!.answer('retryable');
    await drained;
    expect(buffer.log).toEqual(['append z', 'prepend b,c', 'prepend a', 'close']);
    expect(buffer.names).toEqual(['a', 'b', 'c', 'z']);
    expect(await c('buffered_total')).toBe(3);
    expect(dest.calls).toHaveLength(1);
  });

  it('past the deadline, a queue the buffer cannot take is dead-lettered as failed', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(0);
    const dl = memoryDeadLetter();
    const { runner, c } = makeRunner(dest, { maxPackets: 1, inFlight: 1 }, { buffer, deadLetter: dl });
    for (const n of ['a', 'b', 'c']) runner.enqueue(packet(n));
    const drained = runner.drain(100);
    await settle(100);
    dest.calls[0]!.answer('delivered');
    await drained;
    expect(vi.getTimerCount()).toBe(0); // no lane to stop: no abort timer left behind
    expect(dl.written).toEqual([{ names: ['b', 'c'], reason: 'disk buffer full at shutdown' }]);
    expect(await c('failed_total')).toBe(2);
  });

  it('a disk batch in flight at the drain: delivered before the deadline, committed; the lane stops there', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a', 'b']);
    const { runner } = makeRunner(dest, { maxPackets: 1 }, { buffer });
    await settle();
    let done = false;
    const drained = runner.drain(500).then(() => { done = true; });
    await settle(400);
    expect(done).toBe(false);
    expect(dest.calls[0]!.signal.aborted).toBe(false);
    dest.calls[0]!.answer('delivered');
    await drained;
    expect(sent(dest)).toEqual([['a']]);
    expect(buffer.log).toEqual(['commit a', 'close']);
  });

  it('a disk batch in flight past the deadline is aborted and stays on disk, uncommitted', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a', 'b']);
    const { runner } = makeRunner(dest, { maxPackets: 1 }, { buffer });
    await settle();
    const drained = runner.drain(500);
    await settle(499);
    expect(dest.calls[0]!.signal.aborted).toBe(false);
    await settle(1);
    expect(dest.calls[0]!.signal.aborted).toBe(true);
    dest.calls[0]!.answer('retryable');
    await drained;
    expect(buffer.log).toEqual(['close']);
    expect(buffer.names).toEqual(['a', 'b']);
  });

  it('without a deadline the drain waits for the disk batch in flight, however long', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a']);
    const { runner } = makeRunner(dest, {}, { buffer });
    await settle();
    let done = false;
    const drained = runner.drain().then(() => { done = true; });
    await settle(3_600_000);
    expect([done, dest.calls[0]!.signal.aborted]).toEqual([false, false]);
    dest.calls[0]!.answer('delivered');
    await drained;
    expect(buffer.log).toEqual(['commit a', 'close']);
  });

  it('packets refused during the drain are held and go to disk before it ends', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner, c } = makeRunner(dest, { lingerMs: 1_000 }, { buffer });
    runner.enqueue(packet('a'));
    const drained = runner.drain(5_000);
    expect(sent(dest)).toEqual([['a']]);
    dest.calls[0]!.answer('retryable');
    await drained;
    expect(buffer.log).toEqual(['prepend a', 'close']);
    expect([await c('buffered_total'), dest.calls.length]).toEqual([1, 1]);
  });
});
