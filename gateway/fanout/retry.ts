/**
 * Retry as a wrapper around the one Destination interface (not a flag inside each destination):
 * packets whose outcome is 'retryable' are resubmitted, alone, after a capped exponential backoff
 * with full jitter, until they are delivered, fail finally, or attempts run out.
 */
import type { BatchResult, DeliveryOutcome, Destination } from '../extension/destination.js';
import type { Packet, Reply } from '../packet.js';
import { isPromise } from './promise.js';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Full jitter: uniform in [0, min(max, base * 2^attempt)] (attempt counts from 0). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

export interface RetryHooks {
  /** Called with how many packets are about to be resubmitted. */
  onRetry?(count: number): void;
  /** Called once per send() call (first attempt and every retry). */
  onAttempt?(count: number): void;
  random?: () => number;
}

/** Send through `dest`; a thrown error or rejection is 'retryable' for the whole batch. Synchronous when `dest` is. */
export function sendOnce(dest: Destination, batch: readonly Packet[], signal: AbortSignal): BatchResult | Promise<BatchResult> {
  let r: BatchResult | Promise<BatchResult>;
  try {
    r = dest.sendBatch(batch, signal);
  } catch (err) {
    return allRetryable(batch, err);
  }
  return isPromise(r) ? r.then((v) => checked(batch, v), (err: unknown) => allRetryable(batch, err)) : checked(batch, r);
}

export { isPromise };

function checked(batch: readonly Packet[], r: BatchResult): BatchResult {
  if (r.outcomes.length === batch.length) return r;
  return { outcomes: batch.map(() => ({ status: 'failed', reason: `destination returned ${r.outcomes.length} outcomes for ${batch.length} packets` })), replies: r.replies };
}

function allRetryable(batch: readonly Packet[], err: unknown): BatchResult {
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { outcomes: batch.map(() => ({ status: 'retryable', reason })) };
}

function hasRetryable(r: BatchResult): boolean {
  for (const o of r.outcomes) if (o.status === 'retryable') return true;
  return false;
}

export function withRetry(dest: Destination, policy: RetryPolicy, hooks: RetryHooks = {}): Destination {
  const retry = async (batch: readonly Packet[], first: BatchResult, signal: AbortSignal): Promise<BatchResult> => {
    const outcomes: DeliveryOutcome[] = first.outcomes.slice();
    const replies: Reply[] = first.replies ? [...first.replies] : [];
    let pending: number[] = [];
    first.outcomes.forEach((o, i) => { if (o.status === 'retryable') pending.push(i); });
    for (let attempt = 1; pending.length > 0; attempt++) {
      hooks.onRetry?.(pending.length);
      const ok = await sleep(backoffDelay(policy, attempt - 1, hooks.random), signal);
      if (!ok) break; // aborted: the pending packets keep their last (retryable) outcome
      hooks.onAttempt?.(pending.length);
      const r = await sendOnce(dest, pending.map((i) => batch[i]!), signal);
      if (r.replies) replies.push(...r.replies);
      const next: number[] = [];
      r.outcomes.forEach((o, j) => {
        outcomes[pending[j]!] = o;
        if (o.status === 'retryable') next.push(pending[j]!);
      });
      pending = attempt + 1 < policy.maxAttempts ? next : [];
    }
    return { outcomes, replies };
  };
  // The usual case, nothing to retry: the first result as it is, synchronously when `dest` is.
  const after = (batch: readonly Packet[], first: BatchResult, signal: AbortSignal) =>
    policy.maxAttempts <= 1 || !hasRetryable(first) ? first : retry(batch, first, signal);
  return {
    ...dest,
    kind: dest.kind,
    name: dest.name,
    sendBatch: (batch, signal) => {
      hooks.onAttempt?.(batch.length);
      const first = sendOnce(dest, batch, signal);
      return isPromise(first) ? first.then((r) => after(batch, r, signal)) : after(batch, first, signal);
    },
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = () => { clearTimeout(t); resolve(false); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
