/**
 * What the SNS endpoint does with one delivery, apart from HTTP: parse, verify, allow-list the topic,
 * ignore retries, then confirm a subscription, hand a notification to the egress, or log an unsubscribe.
 * Answers with the HTTP status and one outcome word (a metric label and a log field).
 */
import type { Logger } from 'pino';
import type { OutOfBandEgress } from '../../gateway/plugin-kit.js';
import { countDelivery, deliverDocumentRouted, isMalformed, summarize } from '../../gateway/plugin-kit.js';
import { parseSnsEnvelope, type SnsEnvelope } from './sns-envelope.js';
import type { SignatureVerifier } from './sns-signature.js';
import type { ReplayWindow } from '../../gateway/plugin-kit.js';
import type { SourceMetrics } from '../../gateway/plugin-kit.js';

export type SnsOutcome =
  | 'delivered' | 'refused' | 'duplicate' | 'malformed' | 'bad-signature' | 'topic-not-allowed'
  | 'confirmed' | 'confirm-failed' | 'unsubscribed' | 'stale';

export interface SnsHandling { readonly status: 200 | 400 | 403 | 502; readonly outcome: SnsOutcome }

export interface SnsHandlerOptions {
  readonly source: string;
  readonly listener: string;
  readonly egress: OutOfBandEgress;
  readonly logger: Logger;
  readonly metrics: SourceMetrics;
  readonly topicArns: readonly string[];
  /** Absent: signatures are not checked (only for emulators whose signatures cannot be verified). */
  readonly verify?: SignatureVerifier;
  readonly checkSubscribeUrl: (raw: string) => URL | Error;
  readonly confirmSubscription: (url: URL) => Promise<void>;
  /** MessageIds handled, for the accepted Timestamp window. */
  readonly seen: ReplayWindow;
  readonly now?: () => number;
}

export type SnsHandler = (body: unknown, headerType?: string) => Promise<SnsHandling>;

export function createSnsHandler(o: SnsHandlerOptions): SnsHandler {
  const topics = new Set(o.topicArns);
  const now = o.now ?? Date.now;

  function done(outcome: SnsOutcome, status: SnsHandling['status'], fields: Record<string, unknown>, msg: string): SnsHandling {
    o.metrics.messages.inc({ source: o.source, outcome });
    // Per-notification lines stay at debug (volume); subscription changes at info; refusals at warn.
    const level = status !== 200 ? 'warn' : outcome === 'confirmed' || outcome === 'unsubscribed' ? 'info' : 'debug';
    o.logger[level]({ outcome, status, ...fields }, msg);
    return { status, outcome };
  }

  async function confirm(env: SnsEnvelope, ids: Record<string, unknown>): Promise<SnsHandling> {
    const url = o.checkSubscribeUrl(env.SubscribeURL!);
    if (url instanceof Error) return done('malformed', 400, { ...ids, error: `SubscribeURL ${url.message}` }, 'SNS subscription confirmation refused');
    try {
      await o.confirmSubscription(url);
    } catch (err) {
      o.seen.remove(env.MessageId); // let SNS's retry try again
      return done('confirm-failed', 502, { ...ids, error: (err as Error).message }, 'SNS subscription could not be confirmed');
    }
    return done('confirmed', 200, ids, 'SNS subscription confirmed');
  }

  async function notify(env: SnsEnvelope, ids: Record<string, unknown>): Promise<SnsHandling> {
    const now = Date.parse(env.Timestamp); // TtlSeconds counts from publication, not from arrival
    const report = await deliverDocumentRouted(env.Message, { egress: o.egress, listener: o.listener, now });
    if (report instanceof Error) return done('malformed', 400, { ...ids, error: report.message }, 'SNS notification is not an egress document');
    countDelivery(o.metrics, o.source, report);
    if (isMalformed(report)) return done('malformed', 400, { ...ids, ...summarize(report) }, 'SNS notification has no valid entry');
    const outcome = report.sent > 0 || report.refused.length === 0 ? 'delivered' : 'refused';
    return done(outcome, 200, { ...ids, ...summarize(report) }, 'SNS notification handled');
  }

  // Cheap checks first: nothing unauthenticated (a foreign topic, an old or repeated message) makes
  // the endpoint fetch a certificate or verify a signature.
  return async (body, headerType) => {
    const env = parseSnsEnvelope(body);
    if (env instanceof Error) return done('malformed', 400, { error: env.message }, 'SNS request is not an SNS message');
    const ids = { type: env.Type, messageId: env.MessageId, topicArn: env.TopicArn };
    if (headerType !== undefined && headerType !== env.Type) {
      return done('malformed', 400, { ...ids, error: `x-amz-sns-message-type ${headerType} differs from Type` }, 'SNS request is inconsistent');
    }
    if (!topics.has(env.TopicArn)) return done('topic-not-allowed', 403, ids, 'SNS message from a topic not in topicArns refused');
    const timestamp = Date.parse(env.Timestamp), t = now();
    const replay = o.seen.check(env.MessageId, timestamp, t);
    if (replay === 'duplicate') return done('duplicate', 200, ids, 'SNS retry of a handled message ignored');
    if (replay !== 'new') {
      // 400, so a genuine SNS delivery this old is not retried (it would never be accepted).
      return done('stale', 400, { ...ids, timestamp: env.Timestamp, error: `Timestamp is ${replay === 'future' ? 'in the future' : 'outside the accepted window (maxMessageAgeSeconds)'}` }, 'SNS message refused by its Timestamp');
    }
    if (o.verify) {
      const check = await o.verify(env);
      if (!check.ok) return done('bad-signature', 403, { ...ids, reason: check.reason, error: check.detail }, 'SNS signature refused');
    }
    if (o.seen.check(env.MessageId, timestamp, t) === 'duplicate') return done('duplicate', 200, ids, 'SNS retry of a handled message ignored'); // arrived during verify
    o.seen.add(env.MessageId, timestamp, t);
    if (env.Type === 'SubscriptionConfirmation') return confirm(env, ids);
    if (env.Type === 'Notification') return notify(env, ids);
    return done('unsubscribed', 200, ids, 'SNS subscription was unsubscribed');
  };
}
