/** Retry as a wrapper (gateway/fanout/retry.ts): the backoff on values, and what is resent when. */
import { describe, expect, it, vi } from 'vitest';
import { getEventListeners } from 'node:events';
import { backoffDelay, sendOnce, withRetry } from '../../gateway/fanout/retry.js';
import type { BatchResult, Destination } from '../../gateway/extension/destination.js';
import type { Packet } from '../../gateway/packet.js';

const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
const packet = (i: number): Packet => ({
  tag: `t${i}`, listener: 'edge', remote: { address: '127.0.0.1', port: 1000 + i }, local: { address: '127.0.0.1', port: 5555 },
  receivedAt: 0, data: Buffer.from(`p${i}`), formatter: 'utf8',
});

describe('backoffDelay (full jitter, capped exponential)', () => {
  it('grows as base * 2^attempt up to the cap, scaled by the random draw', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, top))).toEqual([99, 199, 399, 799, 999, 999]);
    expect([0, 3, 9].map((a) => backoffDelay(policy, a, () => 0.5))).toEqual([50, 400, 500]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });

  it('uses Math.random by default, within [0, cap)', () => {
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(policy, 2);
      expect(d >= 0 && d < 400 && Number.isInteger(d)).toBe(true);
    }
  });
});

describe('withRetry', () => {
  function flaky(failFirst: number, status: 'retryable' | 'failed' = 'retryable') {
    const sent: string[][] = [];
    let calls = 0;
    const dest: Destination = {
      kind: 'test', name: 'd',
      sendBatch: (batch) => {
        sent.push(batch.map((p) => p.data.toString()));
        calls++;
        return { outcomes: batch.map((p) => (calls <= failFirst && p.tag !== 't0' ? { status, reason: `busy ${calls}` } : { status: 'delivered' as const })), replies: [{ tag: `r${calls}`, data: Buffer.alloc(0) }] };
      },
    };
    return { dest, sent };
  }

  it('resends only the retryable packets, alone, until delivered; replies of every attempt kept', async () => {
    const { dest, sent } = flaky(2);
    const retries: number[] = [], attempts: number[] = [];
    const r = await withRetry(dest, { ...policy, baseDelayMs: 1 }, { onRetry: (n) => retries.push(n), onAttempt: (n) => attempts.push(n), random: () => 0 }).sendBatch([packet(0), packet(1), packet(2)], new AbortController().signal);
    expect(sent).toEqual([['p0', 'p1', 'p2'], ['p1', 'p2'], ['p1', 'p2']]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(r.replies?.map((x) => x.tag)).toEqual(['r1', 'r2', 'r3']);
    expect([retries, attempts]).toEqual([[2, 2], [3, 2, 2]]);
  });

  it('stops after maxAttempts in all, keeping the last retryable outcome', async () => {
    const { dest, sent } = flaky(100);
    const r = await withRetry(dest, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, { random: () => 0 }).sendBatch([packet(1)], new AbortController().signal);
    expect(sent).toHaveLength(3);
    expect(r.outcomes).toEqual([{ status: 'retryable', reason: 'busy 3' }]);
  });

  it('a failed outcome is final; maxAttempts 1 never retries; the first result is returned as it is when nothing is retryable', async () => {
    const failing = flaky(100, 'failed');
    const r1 = await withRetry(failing.dest, policy).sendBatch([packet(1)], new AbortController().signal);
    expect([failing.sent.length, r1.outcomes[0]!.status]).toEqual([1, 'failed']);
    const once = flaky(100);
    const r2 = await withRetry(once.dest, { ...policy, maxAttempts: 1 }).sendBatch([packet(1)], new AbortController().signal);
    expect([once.sent.length, r2.outcomes[0]!.status]).toEqual([1, 'retryable']);
  });

  it('an abort during the backoff stops retrying at once', async () => {
    const { dest, sent } = flaky(100);
    const ac = new AbortController();
    const pending = withRetry(dest, { maxAttempts: 5, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 }, { random: () => 1, onRetry: () => ac.abort() }).sendBatch([packet(1)], ac.signal);
    const r = await pending;
    expect([sent.length, r.outcomes[0]!.status]).toEqual([1, 'retryable']);
  });

  it('waits the backoff before resending: nothing is resent while the delay runs', async () => {
    const { dest, sent } = flaky(1);
    let resolveRetry!: () => void;
    const retried = new Promise<void>((res) => { resolveRetry = res; });
    // A long backoff and an abort from the test once the first attempt is seen: the resend must not have happened.
    const ac = new AbortController();
    const pending = withRetry(dest, { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { random: () => 0.5, onRetry: () => resolveRetry() }).sendBatch([packet(1)], ac.signal);
    await retried;
    await new Promise((res) => setImmediate(res));
    expect(sent).toHaveLength(1);
    ac.abort();
    expect((await pending).outcomes[0]!.status).toBe('retryable');
  });
});

describe('sendOnce', () => {
  it('a throw or a rejection makes the whole batch retryable with the error as reason', async () => {
    const thrower: Destination = { kind: 't', name: 't', sendBatch: () => { throw new TypeError('boom'); } };
    const rejecter: Destination = { kind: 't', name: 't', sendBatch: () => Promise.reject(new Error('down')) };
    const ac = new AbortController();
    expect(sendOnce(thrower, [packet(1), packet(2)], ac.signal)).toEqual({ outcomes: [{ status: 'retryable', reason: 'TypeError: boom' }, { status: 'retryable', reason: 'TypeError: boom' }] });
    expect(await sendOnce(rejecter, [packet(1)], ac.signal)).toEqual({ outcomes: [{ status: 'retryable', reason: 'Error: down' }] });
    const strings: Destination = { kind: 't', name: 't', sendBatch: () => { throw 'plain'; } };
    expect(sendOnce(strings, [packet(1)], ac.signal)).toEqual({ outcomes: [{ status: 'retryable', reason: 'plain' }] });
  });

  it('a result with the wrong number of outcomes fails every packet, keeping its replies', () => {
    const wrong: Destination = { kind: 't', name: 't', sendBatch: (): BatchResult => ({ outcomes: [{ status: 'delivered' }], replies: [{ tag: 'x', data: Buffer.alloc(0) }] }) };
    expect(sendOnce(wrong, [packet(1), packet(2)], new AbortController().signal)).toEqual({
      outcomes: [{ status: 'failed', reason: 'destination returned 1 outcomes for 2 packets' }, { status: 'failed', reason: 'destination returned 1 outcomes for 2 packets' }],
      replies: [{ tag: 'x', data: Buffer.alloc(0) }],
    });
  });
});

describe('withRetry, the details', () => {
  const sync = (answer: () => BatchResult): Destination => ({ kind: 't', name: 't', sendBatch: () => answer() });

  it('nothing retryable: the first result itself, synchronously when the destination is', () => {
    const first: BatchResult = { outcomes: [{ status: 'delivered' }, { status: 'failed', reason: 'bad' }] };
    const r = withRetry(sync(() => first), policy).sendBatch([packet(1), packet(2)], new AbortController().signal);
    expect(r).toBe(first);
  });

  it('leaves the destination\'s own result untouched, and adds no reply of its own', async () => {
    let calls = 0;
    const first: BatchResult = { outcomes: [{ status: 'delivered' }, { status: 'retryable', reason: 'busy' }] };
    const dest = sync(() => (++calls === 1 ? first : { outcomes: [{ status: 'delivered' }] }));
    const r = await withRetry(dest, { ...policy, baseDelayMs: 1 }, { random: () => 0 }).sendBatch([packet(1), packet(2)], new AbortController().signal);
    expect(r).toEqual({ outcomes: [{ status: 'delivered' }, { status: 'delivered' }], replies: [] });
    expect(first.outcomes[1]).toEqual({ status: 'retryable', reason: 'busy' });
  });

  it('waits backoffDelay(attempt) before each resend, counting attempts from 0', async () => {
    vi.useFakeTimers();
    try {
      const sent: number[] = [];
      const dest = sync(() => { sent.push(Date.now()); return { outcomes: [{ status: 'retryable', reason: 'busy' }] }; });
      const done = withRetry(dest, { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 10_000 }, { random: () => 0.999 }).sendBatch([packet(1)], new AbortController().signal);
      const start = Date.now();
      await vi.advanceTimersByTimeAsync(98);
      expect(sent.length).toBe(1);
      await vi.advanceTimersByTimeAsync(1); // 99 ms: floor(0.999 * 100 * 2^0)
      expect(sent.length).toBe(2);
      await vi.advanceTimersByTimeAsync(199); // floor(0.999 * 100 * 2^1)
      expect(sent.map((t) => t - start)).toEqual([0, 99, 298]);
      await done;
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves no abort listener behind, whether the backoff ended or was aborted', async () => {
    const signal = new AbortController().signal;
    let calls = 0;
    const dest = sync(() => (++calls === 1 ? { outcomes: [{ status: 'retryable', reason: 'busy' }] } : { outcomes: [{ status: 'delivered' }] }));
    await withRetry(dest, { ...policy, baseDelayMs: 1 }, { random: () => 0 }).sendBatch([packet(1)], signal);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const ac = new AbortController();
    const pending = withRetry(sync(() => ({ outcomes: [{ status: 'retryable', reason: 'busy' }] })), { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 }, { random: () => 1, onRetry: () => queueMicrotask(() => ac.abort()) }).sendBatch([packet(1)], ac.signal);
    await pending;
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
