/**
 * Hands one out-of-band egress document (packets and/or async replies) to the egress and reports what
 * happened, so each source decides its own answer (HTTP status, delete or leave an SQS message).
 */
import type { Egress, EgressRefusal } from '../egress.js';
import { parseEgressDocument } from '../wire/egress-message.js';
import type { SourceMetrics } from './source-metrics.js';

export interface DeliveryReport {
  /** Packets and replies the egress sent. */
  readonly sent: number;
  /** Refusals by the egress (address policy, unknown listener, expiry, bad tag, …), one entry per item. */
  readonly refused: readonly EgressRefusal[];
  /** Entries the parser rejected, with the reason. */
  readonly rejected: readonly { index: number; reason: string }[];
}

/** Refusals that will never succeed on a retry and are not worth keeping a message for: the data is stale. */
const STALE: ReadonlySet<EgressRefusal> = new Set(['expired', 'tag-expired']);

export interface DeliverOptions {
  readonly egress: Egress;
  /** The source's own listener; a message may name another with "Listener". */
  readonly listener: string;
  /** Reference time for TtlSeconds (ms since the epoch): when the message was published. */
  readonly now: number;
}

export function deliverDocument(body: unknown, opts: DeliverOptions): DeliveryReport | Error {
  const doc = parseEgressDocument(body, { now: opts.now, formatterOf: opts.egress.formatterOfTag });
  if (doc instanceof Error) return doc;
  const refused: EgressRefusal[] = [];
  let sent = 0;
  for (const p of doc.packets) {
    const r = opts.egress.sendOutOfBand(p, opts.listener);
    if (r.ok) sent++; else refused.push(r.reason);
  }
  for (const reply of doc.replies) {
    const r = opts.egress.reply(reply.tag, reply.data);
    if (r.ok) sent++; else refused.push(r.reason);
  }
  return { sent, refused, rejected: doc.rejected };
}

/** True when the document held nothing usable: entries were rejected and none was valid. */
export function isMalformed(report: DeliveryReport): boolean {
  return report.rejected.length > 0 && report.sent === 0 && report.refused.length === 0;
}

/** True when a retry could change the outcome, or an operator should see the message (DLQ). */
export function needsAttention(report: DeliveryReport): boolean {
  return report.rejected.length > 0 || report.refused.some((r) => !STALE.has(r));
}

export function countDelivery(m: SourceMetrics, source: string, report: DeliveryReport): void {
  if (report.sent > 0) m.packets.inc({ source, result: 'sent' }, report.sent);
  for (const reason of report.refused) m.packets.inc({ source, result: reason });
  if (report.rejected.length > 0) m.packets.inc({ source, result: 'rejected' }, report.rejected.length);
}

/** A short, address-free summary for one log line. */
export function summarize(report: DeliveryReport): Record<string, unknown> {
  return {
    sent: report.sent,
    ...(report.refused.length ? { refused: report.refused } : {}),
    ...(report.rejected.length ? { rejected: report.rejected.slice(0, 5) } : {}),
  };
}
