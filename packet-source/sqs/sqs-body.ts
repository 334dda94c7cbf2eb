/**
 * The body of an SQS message for the `sqs` packet source, pure: either a raw egress document (SNS raw
 * message delivery, or sent straight to the queue) or an SNS envelope (Type Notification, Message string).
 * The reference time for TtlSeconds is when the message was published: the SNS Timestamp, else the SQS
 * SentTimestamp, else now.
 */
export interface UnwrappedBody {
  /** The egress document (still a JSON string for an SNS envelope's Message). */
  readonly document: unknown;
  readonly now: number;
  readonly envelope: 'sns' | 'raw';
}

export function unwrapSqsBody(body: string | undefined, sentTimestamp: number | undefined, now: number): UnwrappedBody | Error {
  if (body === undefined) return new Error('message has no body');
  let parsed: unknown;
  try { parsed = JSON.parse(body); } catch { return new Error('body is not JSON'); }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return new Error('body is not a JSON object');
  const o = parsed as Record<string, unknown>;
  const published = sentTimestamp ?? now;
  if (o.Type === 'Notification' && typeof o.Message === 'string' && typeof o.TopicArn === 'string') {
    const t = typeof o.Timestamp === 'string' ? Date.parse(o.Timestamp) : NaN;
    return { document: o.Message, now: Number.isNaN(t) ? published : t, envelope: 'sns' };
  }
  return { document: o, now: published, envelope: 'raw' };
}

/** SentTimestamp system attribute: epoch milliseconds as a decimal string. */
export function sentTimestampOf(attributes: Record<string, string> | undefined): number | undefined {
  const v = attributes?.SentTimestamp;
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}
