/**
 * The one delivery path of out-of-band documents (packets and/or async replies), whichever source
 * they come from (SNS, SQS, the admin API): parse, hand to the egress, report what happened, so
 * each source decides its own answer (HTTP status, delete or leave an SQS message).
 */
import type { EgressRefusal, EgressResult } from '../egress.js';
import type { Formatter } from '../packet.js';
import type { OutOfBandEgress } from '../extension/packet-source.js';
import { parseEgressDocument, type EgressDocument } from '../wire/egress-message.js';
import type { SourceMetrics } from './source-metrics.js';

export interface DeliveryReport {
  /** Packets and replies the egress sent. */
  readonly sent: number;
  /** Refusals by the egress (address policy, unknown listener, expiry, bad tag, …), one entry per item. */
  readonly refused: readonly EgressRefusal[];
  /** Entries the parser rejected, with the reason. */
  readonly rejected: readonly { index: number; reason: string }[];
  /** The egress's answer for each valid packet and each valid reply, in document order. */
  readonly messages: readonly EgressResult[];
  readonly replies: readonly EgressResult[];
}

/** Egress path label of an async reply (a reply by tag that arrives out of band, not from a destination). */
export const ASYNC_REPLY_PATH = 'async_reply';

/** Refusals that will never succeed on a retry and are not worth keeping a message for: the data is stale. */
const STALE: ReadonlySet<EgressRefusal> = new Set(['expired', 'tag-expired']);

export interface DeliverOptions {
  readonly egress: OutOfBandEgress;
  /** The source's own listener; a message may name another with "Listener". */
  readonly listener: string;
  /** Reference time for TtlSeconds (ms since the epoch): when the message was published; absent: now. */
  readonly now?: number;
  /** Data encoding of packets that name none; absent: base64 (the document format's default). */
  readonly defaultFormatter?: Formatter;
}

export function deliverDocument(body: unknown, opts: DeliverOptions): DeliveryReport | Error {
  const doc = parse(body, opts);
  if (doc instanceof Error) return doc;
  const messages = doc.packets.map((p) => opts.egress.sendOutOfBand(p, opts.listener));
  const replies = doc.replies.map((r) => opts.egress.reply(r.tag, r.data, ASYNC_REPLY_PATH));
  return report(doc, messages, replies);
}

/**
 * As deliverDocument, but each packet and reply leaves from the node that owns the client's flow
 * when the egress is a cluster's (routeOutOfBand / routeReply); the same as deliverDocument otherwise.
 */
export async function deliverDocumentRouted(body: unknown, opts: DeliverOptions): Promise<DeliveryReport | Error> {
  const { egress } = opts;
  if (!egress.routeOutOfBand || !egress.routeReply) return deliverDocument(body, opts);
  const doc = parse(body, opts);
  if (doc instanceof Error) return doc;
  const messages = await Promise.all(doc.packets.map((p) => egress.routeOutOfBand!(p, opts.listener)));
  const replies = await Promise.all(doc.replies.map((r) => egress.routeReply!(r.tag, r.data, ASYNC_REPLY_PATH)));
  return report(doc, messages, replies);
}

function parse(body: unknown, opts: DeliverOptions): EgressDocument | Error {
  const defaultFormatter = opts.defaultFormatter;
  return parseEgressDocument(body, {
    ...(opts.now !== undefined ? { now: opts.now } : {}), ...(defaultFormatter ? { defaultFormatter } : {}),
    formatterOf: opts.egress.formatterOfTag,
  });
}

function report(doc: EgressDocument, messages: EgressResult[], replies: EgressResult[]): DeliveryReport {
  const refused: EgressRefusal[] = [];
  let sent = 0;
  for (const r of [...messages, ...replies]) { if (r.ok) sent++; else refused.push(r.reason); }
  return { sent, refused, rejected: doc.rejected, messages, replies };
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
