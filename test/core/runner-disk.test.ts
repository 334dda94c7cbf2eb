/**
 * The runner's disk-buffer lane on values (gateway/fanout/runner.ts with buffer.disk): a disk buffer
 * in memory with the DiskBuffer's contract (test/support/runner-harness.ts), a destination answered
 * by hand, fake timers. An outage holds refused batches and spills new packets to disk; the lane
 * probes every retry.maxDelayMs and delivers in order once the destination is back; the limits of
 * the buffer, its errors, and a buffer left by the last run. Draining with a buffer:
 * runner-disk-drain.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBuffer } from '../../gateway/fanout/disk-buffer.js';
import { handDestination, makeRunner, memoryDeadLetter, MemoryBuffer, packet, settle, syncDestination } from '../support/runner-harness.js';

beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(10_000); });
afterEach(() => { vi.useRealTimers(); });

const sent = (dest: ReturnType<typeof handDestination>) => dest.calls.map((c) => c.names);

describe('runner: disk buffer', () => {
  it('an outage: the refused batch and the queue go to the front of the disk, new packets after them; the lane probes every maxDelayMs and delivers all in order, nothing dead-lettered', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const dl = memoryDeadLetter();
    const { runner, c, drops, value } = makeRunner(dest, { maxPackets: 2, inFlight: 1, maxDelayMs: 100 }, { buffer, deadLetter: dl });
    expect(runner.status()).toMatchObject({ buffer: { spilling: false, failing: false } });
    runner.enqueue(packet('a')); runner.enqueue(packet('b'));
    runner.enqueue(packet('c')); // queued behind the batch in flight
    expect(sent(dest)).toEqual([['a', 'b']]);
    dest.calls[0]!.answer('retryable');
    await settle();
    expect(buffer.log).toEqual(['prepend a,b,c']);
    expect(runner.queued).toBe(0);
    expect(runner.enqueue(packet('d'))).toBe(true); // spilling: to disk, after them
    expect(buffer.names).toEqual(['a', 'b', 'c', 'd']);
    expect(sent(dest)).toEqual([['a', 'b'], ['a', 'b']]); // the lane's first try
    dest.calls[1]!.answer('retryable');
    await settle();
    expect(runner.status()).toMatchObject({ buffer: { spilling: true, failing: true } });
    await settle(99);
    expect(dest.calls).toHaveLength(2);
    await settle(1);
    expect(sent(dest)).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']]); // the probe
    dest.calls[2]!.answer('delivered');
    await settle();
    expect(sent(dest).at(-1)).toEqual(['c', 'd']);
    expect(runner.status()).toMatchObject({ buffer: { spilling: true, failing: false } });
    dest.calls[3]!.answer('delivered');
    await settle();
    expect(buffer.log).toEqual(['prepend a,b,c', 'append d', 'commit a,b', 'commit c,d']);
    expect(runner.status()).toMatchObject({ buffer: { spilling: false, failing: false } });
    runner.enqueue(packet('e')); // back to the memory lane
    await settle();
    expect(sent(dest).at(-1)).toEqual(['e']);
    expect(buffer.log).toHaveLength(4);
    expect(await Promise.all(['delivered_total', 'failed_total', 'dead_lettered_total', 'buffered_total'].map(c))).toEqual([4, 0, 0, 4]);
    expect([await value('udpgw_drops_total'), dl.written]).toEqual([0, []]);
    expect(await drops('queue-full')).toBe(0);
  });

  it('batches refused out of order go to disk in the order they were sent', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner } = makeRunner(dest, { maxPackets: 1, inFlight: 3 }, { buffer });
    for (const n of ['a', 'b', 'c']) runner.enqueue(packet(n));
    expect(sent(dest)).toEqual([['a'], ['b'], ['c']]);
    dest.calls[2]!.answer('retryable');
    await settle();
    dest.calls[0]!.answer('retryable');
    await settle();
    expect(buffer.log).toEqual([]); // b still in flight
    dest.calls[1]!.answer('retryable');
    await settle();
    expect(buffer.log).toEqual(['prepend a,b,c']);
  });

  it('while failing, a linger that comes due sends nothing from memory: the queue goes to disk behind the held batch', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner } = makeRunner(dest, { maxPackets: 2, inFlight: 3, lingerMs: 50 }, { buffer });
    for (const n of ['a', 'b', 'c', 'd', 'e']) runner.enqueue(packet(n)); // [a,b] and [c,d] out, e lingering
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b'], ['c', 'd']]);
    dest.calls[0]!.answer('retryable'); // an outage, [c,d] still in flight
    await settle(50);
    expect(dest.calls).toHaveLength(2); // e's linger came due: not sent while failing
    dest.calls[1]!.answer('retryable');
    await settle();
    expect(buffer.log).toEqual(['prepend a,b,c,d,e']);
  });

  it('a full memory queue spills to disk instead of dropping; the disk waits until the memory lane is idle, then follows it', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner, drops, c } = makeRunner(dest, { maxPackets: 1, inFlight: 1, queue: 2 }, { buffer });
    for (const n of ['a', 'b', 'c', 'd', 'e']) expect(runner.enqueue(packet(n))).toBe(true);
    expect(buffer.log).toEqual(['append d', 'append e']);
    expect(runner.status()).toMatchObject({ queued: 2, buffer: { spilling: true, failing: false } });
    for (let i = 0; i < 5; i++) {
      await settle();
      expect(dest.open()).toHaveLength(1); // one at a time: the disk lane does not overtake the memory lane
      dest.open()[0]!.answer('delivered');
    }
    await settle();
    expect(sent(dest)).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
    expect(buffer.log).toEqual(['append d', 'append e', 'commit d', 'commit e']);
    expect([await drops('queue-full'), await c('buffered_total'), await c('delivered_total')]).toEqual([0, 2, 5]);
  });

  it('a new packet refused while another batch is still in flight waits on disk: the held batches go first, in send order', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner } = makeRunner(dest, { maxPackets: 1, inFlight: 2 }, { buffer });
    runner.enqueue(packet('a')); runner.enqueue(packet('b'));
    dest.calls[0]!.answer('retryable');
    await settle();
    expect(runner.enqueue(packet('c'))).toBe(true); // b still in flight: c to disk, the lane not yet started
    expect(buffer.log).toEqual(['append c']);
    expect(dest.calls).toHaveLength(2);
    dest.calls[1]!.answer('retryable');
    await settle();
    expect(buffer.log).toEqual(['append c', 'prepend a,b']);
    expect(buffer.names).toEqual(['a', 'b', 'c']);
    expect(dest.calls.map((c) => c.names).at(-1)).toEqual(['a']);
  });

  it('the lane waits for the memory lane: a lingering queue goes from memory first, the spilled packets after it', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer();
    const { runner } = makeRunner(dest, { queue: 2, lingerMs: 50 }, { buffer });
    for (const n of ['a', 'b', 'c']) expect(runner.enqueue(packet(n))).toBe(true);
    expect(buffer.log).toEqual(['append c']);
    await settle(49);
    expect(dest.calls).toHaveLength(0);
    await settle(1);
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b']]);
    dest.calls[0]!.answer('delivered');
    await settle();
    expect(dest.calls.map((c) => c.names)).toEqual([['a', 'b'], ['c']]);
  });

  it('without an outage the disk lane never runs: nothing is read from the buffer', async () => {
    const buffer = new MemoryBuffer();
    const dest = syncDestination();
    const { runner } = makeRunner(dest, { lingerMs: 0 }, { buffer });
    for (const n of ['a', 'b']) { runner.hold(); runner.enqueue(packet(n)); runner.flush(); }
    await settle();
    expect([dest.batches, buffer.reads, buffer.log]).toEqual([[['a'], ['b']], 0, []]);
  });

  it('disk reads are batches within maxPackets and maxBytes', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['aaaa', 'bbbb', 'cccc', 'd', 'e', 'f', 'g']);
    makeRunner(dest, { maxPackets: 3, maxBytes: 8 }, { buffer });
    await settle();
    expect(sent(dest)).toEqual([['aaaa', 'bbbb']]);
    dest.calls[0]!.answer('delivered'); await settle();
    expect(sent(dest).at(-1)).toEqual(['cccc', 'd', 'e']);
    dest.calls[1]!.answer('delivered'); await settle();
    expect(sent(dest).at(-1)).toEqual(['f', 'g']);
  });

  it('with a real DiskBuffer, disk batches count the first packet\'s bytes too: none passes maxBytes', async () => {
    vi.useRealTimers();
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-runner-'));
    const disk = DiskBuffer.open({ path: dir, maxBytes: 1_000_000, fsync: 'never', fsyncIntervalMs: 1000 });
    for (const n of ['aaaa', 'bbbb', 'cccc', 'dd', 'ee', 'ff']) disk.append(packet(n));
    const dest = handDestination();
    const { runner } = makeRunner(dest, { maxPackets: 10, maxBytes: 8 }, { buffer: disk as unknown as MemoryBuffer });
    for (const want of [['aaaa', 'bbbb'], ['cccc', 'dd', 'ee'], ['ff']]) {
      await vi.waitFor(() => expect(dest.open()).toHaveLength(1));
      expect(dest.open()[0]!.names).toEqual(want);
      dest.open()[0]!.answer('delivered');
    }
    await runner.drain(1000);
    expect(disk.empty).toBe(true);
  });

  it('a buffer left by the last run is delivered first, before any new packet, which follows it', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['old1', 'old2']);
    const { runner, c } = makeRunner(dest, { maxPackets: 2 }, { buffer });
    expect(runner.status()).toMatchObject({ buffer: { spilling: true } });
    await settle();
    expect(sent(dest)).toEqual([['old1', 'old2']]);
    expect(runner.enqueue(packet('new'))).toBe(true);
    expect(buffer.names).toEqual(['old1', 'old2', 'new']);
    dest.calls[0]!.answer('delivered');
    await settle();
    expect(sent(dest)).toEqual([['old1', 'old2'], ['new']]);
    dest.calls[1]!.answer('delivered');
    await settle();
    expect([buffer.names, await c('delivered_total')]).toEqual([[], 3]);
    expect(runner.status()).toMatchObject({ buffer: { spilling: false } });
  });

  it('records still on their way to disk: the lane looks again after 10 ms', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a']);
    buffer.writing = true;
    makeRunner(dest, {}, { buffer });
    await settle(5);
    expect(dest.calls).toHaveLength(0);
    buffer.writing = false;
    await settle(5);
    expect(sent(dest)).toEqual([['a']]);
  });

  it('on the disk lane, finally failed packets are dead-lettered (and committed), retryable ones probed again alone', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a', 'b', 'c']);
    const dl = memoryDeadLetter();
    const { c } = makeRunner(dest, { maxDelayMs: 100 }, { buffer, deadLetter: dl });
    await settle();
    dest.calls[0]!.answer(['delivered', { status: 'failed', reason: 'bad' }, 'retryable']);
    await settle();
    expect(dl.written).toEqual([{ names: ['b'], reason: 'bad (x1)' }]);
    await settle(100);
    expect(sent(dest)).toEqual([['a', 'b', 'c'], ['c']]);
    dest.calls[1]!.answer('delivered');
    await settle();
    expect(buffer.log).toEqual(['commit a,b,c']);
    expect(await Promise.all(['delivered_total', 'failed_total', 'dead_lettered_total'].map(c))).toEqual([2, 1, 1]);
  });

  it('a synchronous destination down: its refused batch goes to disk and the lane probes it until it is back', async () => {
    let up = false;
    const dest = syncDestination((batch) => ({ outcomes: batch.map(() => (up ? { status: 'delivered' as const } : { status: 'retryable' as const, reason: 'down' })) }));
    const buffer = new MemoryBuffer();
    const { runner, c } = makeRunner(dest, { lingerMs: 0, maxDelayMs: 100 }, { buffer });
    runner.hold(); runner.enqueue(packet('a')); runner.enqueue(packet('b')); runner.flush();
    await settle();
    expect(buffer.log).toEqual(['prepend a,b']);
    expect(dest.batches).toEqual([['a', 'b'], ['a', 'b']]);
    up = true;
    await settle(100);
    expect(dest.batches).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']]);
    expect(buffer.log).toEqual(['prepend a,b', 'commit a,b']);
    runner.hold(); runner.enqueue(packet('c')); runner.flush();
    expect(dest.batches.at(-1)).toEqual(['c']);
    expect([await c('delivered_total'), await c('failed_total')]).toEqual([3, 0]);
  });

  it('the drain waits for a dead-letter write of the disk lane', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a']);
    const dl = memoryDeadLetter();
    let open!: () => void;
    dl.gate = new Promise((r) => { open = r; });
    const { runner, c } = makeRunner(dest, {}, { buffer, deadLetter: dl });
    await settle();
    dest.calls[0]!.answer('failed');
    await settle();
    let done = false;
    const drained = runner.drain(10_000).then(() => { done = true; });
    await settle();
    expect(done).toBe(false);
    open();
    await drained;
    expect([dl.written, await c('dead_lettered_total')]).toEqual([[{ names: ['a'], reason: 'failed-0 (x1)' }], 1]);
  });

  it.each([['before', true], ['after', false]])('a dead-letter write of the disk lane ending %s the lane: the drain waits for both, and ends with the last', async (_w, writeFirst) => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a', 'b']);
    const dl = memoryDeadLetter();
    dl.slow = true;
    const { runner } = makeRunner(dest, { maxPackets: 1 }, { buffer, deadLetter: dl });
    await settle();
    dest.calls[0]!.answer('failed');
    await settle();
    expect(dest.calls.map((c) => c.names)).toEqual([['a'], ['b']]);
    let done = false;
    void runner.drain(10_000).then(() => { done = true; });
    await settle();
    if (writeFirst) { dl.waiting.shift()!(); await settle(); expect(done).toBe(false); }
    dest.calls[1]!.answer('delivered');
    await settle();
    if (!writeFirst) { expect(done).toBe(false); dl.waiting.shift()!(); await settle(); }
    expect(done).toBe(true);
    expect(buffer.log).toEqual(['commit a', 'commit b', 'close']);
  });

  it('a disk batch refused during the drain: the lane stops at once, without waiting to probe again', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a']);
    const { runner } = makeRunner(dest, { maxDelayMs: 5_000 }, { buffer });
    await settle();
    let done = false;
    void runner.drain(10_000).then(() => { done = true; });
    await settle();
    dest.calls[0]!.answer('retryable');
    await settle();
    expect(done).toBe(true);
    expect([buffer.names, dest.calls[0]!.signal.aborted]).toEqual([['a'], false]);
  });

  it('a read error stops the lane, logged; the next packet starts it again', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(100, ['a']);
    buffer.readFails = new Error('EIO');
    const { runner, lines } = makeRunner(dest, {}, { buffer });
    await settle();
    expect(lines.map((l) => [l.level, l.msg, (l.obj.err as Error).message])).toEqual([['error', 'disk buffer lane stopped; it resumes with the next packet', 'EIO']]);
    buffer.readFails = undefined;
    expect(dest.calls).toHaveLength(0);
    runner.enqueue(packet('b'));
    await settle();
    expect(sent(dest)).toEqual([['a', 'b']]);
  });

  it('past the buffer\'s limit without a dead-letter: a counted buffer-full drop', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(1);
    const { runner, drops, c } = makeRunner(dest, { maxPackets: 1, inFlight: 1, queue: 1 }, { buffer });
    expect(['a', 'b', 'c', 'd'].map((n) => runner.enqueue(packet(n)))).toEqual([true, true, true, false]);
    expect([buffer.names, await drops('buffer-full'), await c('buffered_total')]).toEqual([['c'], 1, 1]);
  });

  it('past the buffer\'s limit with a dead-letter: the packets of the turn are dead-lettered together, with the reason', async () => {
    const dest = handDestination();
    const buffer = new MemoryBuffer(1);
    const dl = memoryDeadLetter();
    const { runner, drops, c, lines } = makeRunner(dest, { maxPackets: 1, inFlight: 1, queue: 1 }, { buffer, deadLetter: dl });
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => runner.enqueue(packet(n)))).toEqual([true, true, true, true, true]);
    expect(dl.written).toEqual([]);
    await settle();
    expect(dl.written).toEqual([{ names: ['d', 'e'], reason: 'disk buffer full (buffer.disk.maxBytes)' }]);
    expect(runner.enqueue(packet('f'))).toBe(true);
    await settle();
    expect(dl.written.at(-1)).toEqual({ names: ['f'], reason: 'disk buffer full (buffer.disk.maxBytes)' });
    expect([await drops('buffer-full'), await c('failed_total'), await c('dead_lettered_total')]).toEqual([0, 3, 3]);
    expect(lines.filter((l) => l.msg === 'delivery failed')).toHaveLength(2);
  });

  it('records a write lost are counted as buffer-write-failed drops and logged; the bytes gauge reads the buffer', async () => {
    const buffer = new MemoryBuffer(100, ['abc', 'de']);
    const { drops, lines, gauges, runner } = makeRunner(handDestination(), {}, { buffer });
    expect(await gauges()).toMatchObject({ bufferBytes: 5 });
    expect(runner.status()).toMatchObject({ buffer: { bytes: 5 } });
    buffer.onWriteError!(new Error('ENOSPC'), 3);
    expect(await drops('buffer-write-failed')).toBe(3);
    expect(lines.map((l) => [l.level, l.msg, l.obj.packets, (l.obj.err as Error).message])).toEqual([['error', 'disk buffer write failed; packets lost', 3, 'ENOSPC']]);
  });

  it('when the buffer cannot take the held batch, it is dead-lettered with the reason', async () => {
    for (const refuse of ['full', 'throws'] as const) {
      const dest = handDestination();
      const buffer = new MemoryBuffer(refuse === 'full' ? 1 : 100);
      if (refuse === 'throws') buffer.prependFails = new Error('EROFS');
      const dl = memoryDeadLetter();
      const { runner, lines, c } = makeRunner(dest, { maxPackets: 2 }, { buffer, deadLetter: dl });
      runner.enqueue(packet('a')); runner.enqueue(packet('b'));
      dest.calls[0]!.answer('retryable');
      await settle();
      expect(dl.written).toEqual([{ names: ['a', 'b'], reason: 'disk buffer full (buffer.disk.maxBytes) or not writable' }]);
      expect(lines.filter((l) => l.msg === 'disk buffer write failed').map((l) => (l.obj.err as Error).message)).toEqual(refuse === 'throws' ? ['EROFS'] : []);
      expect([await c('buffered_total'), await c('failed_total')]).toEqual([0, 2]);
    }
  });
});
