/**
 * Where finally-failed packets go, so nothing accepted vanishes without a trace. A dead-letter
 * target is a destination like any other (file, sqs, kinesis, …: `deadLetter: { type, … }`),
 * created, limited, retried and closed the same way. Each packet is written as its event message
 * plus Destination, Reason and FailedAt; a packet the target refuses as oversize is written again
 * without its data (DataOmitted, DataBytes), so at least the fact of its loss is kept.
 */
import type { Logger } from 'pino';
import type { Destination, DeliveryOutcome } from '../extension/destination.js';
import type { Packet } from '../packet.js';
import { withLimits } from './limits.js';
import { withRetry, type RetryPolicy } from './retry.js';

export interface DeadLetter {
  /** Write the packets with the reason; rejects with a DeadLetterError if some could not be written. */
  write(packets: readonly Packet[], reason: string): Promise<void>;
}

/** What the runner counts of dead-letter writes: packets written, packets lost (a counted drop). */
export interface DeadLetterCounts {
  readonly written: { inc(n: number): void };
  readonly lost: { inc(n: number): void };
}

/** Write to the dead-letter and count the outcome; never rejects (what it could not take is counted
 *  as lost and logged once). */
export async function writeCounted(dl: DeadLetter, packets: readonly Packet[], reason: string, counts: DeadLetterCounts, logger: Logger): Promise<void> {
  try {
    await dl.write(packets, reason);
    counts.written.inc(packets.length);
  } catch (err) {
    const lost = err instanceof DeadLetterError ? err.failed : packets.length;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the guard only skips an inc(0)
    if (packets.length > lost) counts.written.inc(packets.length - lost);
    logger.error({ packets: lost, err }, 'dead-letter write failed; packets lost');
    counts.lost.inc(lost);
  }
}

export class DeadLetterError extends Error {
  constructor(readonly failed: number, readonly total: number, firstReason: string) {
    super(`dead-letter: ${failed} of ${total} not written (${firstReason})`);
    this.name = 'DeadLetterError';
  }
}

/** A copy of `p` (its tag read explicitly: it may be a getter) with extra event keys. */
export function annotate(p: Packet, annotations: Record<string, string | number | boolean>, data: Buffer = p.data): Packet {
  return {
    tag: p.tag, listener: p.listener, remote: p.remote, local: p.local, receivedAt: p.receivedAt, formatter: p.formatter,
    data, annotations: { ...p.annotations, ...annotations },
  };
}

export function createDeadLetter(target: Destination, destination: string, retry: RetryPolicy, now: () => number = Date.now): DeadLetter {
  const send = withRetry(withLimits(target), retry);
  const abort = new AbortController();
  async function attempt(packets: Packet[]): Promise<readonly DeliveryOutcome[]> {
    return (await send.sendBatch(packets, abort.signal)).outcomes;
  }
  return {
    async write(packets, reason) {
      const failedAt = new Date(now()).toISOString();
      const lines = packets.map((p) => annotate(p, { Destination: destination, Reason: reason, FailedAt: failedAt }));
      const outcomes = await attempt(lines);
      const oversize = lines.filter((_, i) => outcomes[i]!.status !== 'delivered' && (outcomes[i] as { reason: string }).reason === 'oversize');
      const second = oversize.length
        ? await attempt(oversize.map((p) => annotate(p, { DataOmitted: true, DataBytes: p.data.length, Reason: reason.slice(0, 1_000) }, Buffer.alloc(0))))
        : [];
      const lost = [...outcomes.filter((o) => o.status !== 'delivered' && o.reason !== 'oversize'), ...second.filter((o) => o.status !== 'delivered')];
      if (lost.length) throw new DeadLetterError(lost.length, packets.length, (lost[0] as { reason: string }).reason);
    },
  };
}
