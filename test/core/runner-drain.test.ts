/**
 * The runner's memory lane while the gateway drains (gateway/fanout/runner.ts; the lane itself:
 * runner-lane.test.ts): the queue goes at once, as full as the limits allow, within the in-flight
 * limit; past the deadline sends are aborted and the rest dropped or dead-lettered as shutdown;
 * pending dead-letter writes are waited for. A destination the test answers by hand, fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handDestination, makeRunner, memoryDeadLetter, packet, settle, syncDestination } from '../support/runner-harness.js';

beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(10_000); });
afterEach(() => { vi.useRealTimers(); });

describe('runner: draining', () => {
  it('drain() sends what is queued at once (linger ignored) and resolves only when the batch in flight ends', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 10_000 });
    runner.enqueue(packet('a')); runner.enqueue(packet('b'));
    let done = false;
    const drained = runner.drain().then(() => { done = true; });
    expect(dest.calls.map((x) => x.names)).toEqual([['a', 'b']]);
    expect(runner.enqueue(packet('c'))).toBe(false);
    await settle(60_000);
    expect([done, dest.calls[0]!.signal.aborted]).toEqual([false, false]); // no deadline: never aborted
    dest.calls[0]!.answer('delivered');
    await settle();
    await drained;
    expect(done).toBe(true);
  });

  it('while draining every queued batch goes, each as full as the limits allow, within the in-flight limit', async () => {
    const dest = handDestination();
    const { runner } = makeRunner(dest, { lingerMs: 10_000, maxPackets: 2, inFlight: 1 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) runner.enqueue(packet(n));
    const drained = runner.drain(5_000);
    expect(dest.calls.map((x) => x.names)).toEqual([['a', 'b']]);
    dest.calls[0]!.answer('delivered'); await settle();
    dest.calls[1]!.answer('delivered'); await settle();
    expect(dest.calls.map((x) => x.names)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    dest.calls[2]!.answer('delivered');
    await settle();
    await drained;
    expect(vi.getTimerCount()).toBe(0); // the deadline timer was cleared
  });

  it('an idle runner drains at once', async () => {
    const { runner } = makeRunner(handDestination());
    let done = false;
    void runner.drain(1000).then(() => { done = true; });
    await settle();
    expect(done).toBe(true);
  });

  it('past the deadline, in-flight sends are aborted and what is still queued is dropped as shutdown (no dead-letter)', async () => {
    const dest = handDestination();
    const { runner, drops, c, lines } = makeRunner(dest, { maxPackets: 1, inFlight: 1 });
    for (const n of ['a', 'b', 'c']) runner.enqueue(packet(n));
    let done = false;
    const drained = runner.drain(100).then(() => { done = true; });
    await settle(99);
    expect(dest.calls[0]!.signal.aborted).toBe(false);
    await settle(1);
    expect(dest.calls[0]!.signal.aborted).toBe(true);
    expect(await drops('shutdown')).toBe(2);
    expect(lines.filter((l) => l.msg === 'delivery failed').map((l) => l.obj)).toEqual([{ packets: 2, reason: 'shutdown deadline passed before delivery', deadLetter: false }]);
    expect(done).toBe(false); // still waits for the aborted send to settle
    dest.calls[0]!.answer('retryable');
    await drained;
    expect(dest.calls).toHaveLength(1);
    expect(await c('failed_total')).toBe(1); // a only: b and c were never sent
  });

  it('past the deadline with nothing queued, only the send in flight is aborted: nothing is dropped or logged', async () => {
    const dest = handDestination();
    const { runner, lines, value } = makeRunner(dest);
    runner.enqueue(packet('a'));
    await settle();
    const drained = runner.drain(100);
    await settle(100);
    expect(dest.calls[0]!.signal.aborted).toBe(true);
    dest.calls[0]!.answer('delivered');
    await drained;
    expect([lines, await value('udpgw_drops_total')]).toEqual([[], 0]);
  });

  it('a synchronous destination behind a slow dead-letter: the drain waits for the write, then sends the queue, before its deadline', async () => {
    const dest = syncDestination((batch) => ({ outcomes: batch.map((p) => (p.data.toString() === 'x' ? { status: 'failed' as const, reason: 'bad' } : { status: 'delivered' as const })) }));
    const dl = memoryDeadLetter();
    let open!: () => void;
    dl.gate = new Promise((r) => { open = r; });
    const { runner, c } = makeRunner(dest, { inFlight: 1, lingerMs: 0 }, { deadLetter: dl });
    runner.hold(); runner.enqueue(packet('x')); runner.flush();
    expect(runner.inFlight).toBe(1); // the dead-letter write
    runner.hold(); runner.enqueue(packet('y')); runner.flush();
    expect(dest.batches).toEqual([['x']]);
    let done = false;
    void runner.drain(10_000).then(() => { done = true; });
    await settle();
    expect(done).toBe(false);
    open();
    await settle();
    expect([done, dest.batches, dl.written]).toEqual([true, [['x'], ['y']], [{ names: ['x'], reason: 'bad (x1)' }]]);
    expect([await c('delivered_total'), await c('dead_lettered_total')]).toEqual([1, 1]);
  });

  it('a synchronous batch delivered while another batch\'s dead-letter write is pending: the drain still waits for that write', async () => {
    const dest = syncDestination((batch) => ({ outcomes: batch.map((p) => (p.data.toString().startsWith('x') ? { status: 'failed' as const, reason: 'bad' } : { status: 'delivered' as const })) }));
    const dl = memoryDeadLetter();
    dl.slow = true;
    const { runner } = makeRunner(dest, { inFlight: 2, lingerMs: 0 }, { deadLetter: dl });
    for (const n of ['x1', 'x2', 'y']) { runner.hold(); runner.enqueue(packet(n)); runner.flush(); }
    expect([dest.batches, runner.inFlight, runner.queued]).toEqual([[['x1'], ['x2']], 2, 1]);
    let done = false;
    void runner.drain(10_000).then(() => { done = true; });
    await settle();
    dl.waiting.shift()!(); // x1 written: y goes, x2's write still pending
    await settle();
    expect([dest.batches, done]).toEqual([[['x1'], ['x2'], ['y']], false]);
    dl.waiting.shift()!();
    await settle();
    expect([done, dl.written.map((w) => w.names)]).toEqual([true, [['x1'], ['x2']]]);
  });

  it('past the deadline, with a dead-letter, the never-sent packets are dead-lettered with the shutdown reason, not dropped', async () => {
    const dest = handDestination();
    const dl = memoryDeadLetter();
    const { runner, drops } = makeRunner(dest, { maxPackets: 1, inFlight: 1 }, { deadLetter: dl });
    for (const n of ['a', 'b', 'c']) runner.enqueue(packet(n));
    const drained = runner.drain(100);
    await settle(100);
    dest.calls[0]!.answer('delivered');
    await drained;
    expect(dl.written).toEqual([{ names: ['b', 'c'], reason: 'shutdown deadline passed before delivery' }]);
    expect(await drops('shutdown')).toBe(0);
  });
});
