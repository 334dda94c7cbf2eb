/**
 * Amazon SNS HTTP(S) envelopes: parsing and the canonical string each signature covers. Pure.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 *   Notification:                               Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type
 *   SubscriptionConfirmation / Unsubscribe…:    Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type
 * Each key, then its value, each followed by a newline.
 */
export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsEnvelope {
  readonly Type: SnsMessageType;
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly SignatureVersion: string;
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly Subject?: string;
  readonly SubscribeURL?: string;
  readonly Token?: string;
}

const TYPES: readonly string[] = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];
const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;
const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;

/** Parse an SNS envelope (a JSON text or an object). Returns an Error naming the first problem. */
export function parseSnsEnvelope(body: unknown): SnsEnvelope | Error {
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch { return new Error('body is not JSON'); }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return new Error('body is not a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.Type !== 'string' || !TYPES.includes(b.Type)) return new Error(`Type must be one of ${TYPES.join(', ')}`);
  for (const k of REQUIRED) if (typeof b[k] !== 'string') return new Error(`${k} is missing or not a string`);
  if (b.Subject !== undefined && b.Subject !== null && typeof b.Subject !== 'string') return new Error('Subject is not a string');
  if (b.Type !== 'Notification') {
    if (typeof b.SubscribeURL !== 'string') return new Error('SubscribeURL is missing or not a string');
    if (typeof b.Token !== 'string') return new Error('Token is missing or not a string');
  }
  if (Number.isNaN(Date.parse(b.Timestamp as string))) return new Error('Timestamp is not an ISO 8601 time');
  return b as unknown as SnsEnvelope;
}

/** The string the signature covers. Subject only when present (SNS omits a null or absent Subject). */
export function canonicalString(env: SnsEnvelope): string {
  const keys = env.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = '';
  for (const k of keys) {
    const v = (env as unknown as Record<string, unknown>)[k];
    if (typeof v !== 'string') continue;
    out += `${k}\n${v}\n`;
  }
  return out;
}

/** Digest of a SignatureVersion: 1 = SHA1withRSA, 2 = SHA256withRSA. */
export function signatureDigest(version: string): 'sha1' | 'sha256' | undefined {
  return version === '1' ? 'sha1' : version === '2' ? 'sha256' : undefined;
}

/** A URL SNS hands us (SigningCertURL, SubscribeURL): https, on a host matching the pattern. */
export function checkSnsUrl(raw: string, hostPattern: RegExp): URL | Error {
  let url: URL;
  try { url = new URL(raw); } catch { return new Error('not a URL'); }
  if (url.protocol !== 'https:') return new Error('not https');
  if (url.username || url.password || (url.port && url.port !== '443')) return new Error('carries credentials or a non-default port');
  if (!hostPattern.test(url.hostname)) return new Error(`host ${url.hostname} does not match ${hostPattern}`);
  return url;
}
