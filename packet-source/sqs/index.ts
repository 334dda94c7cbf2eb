/**
 * `sqs` packet source: long-polls a queue for out-of-band egress documents (raw, or SNS envelopes from an
 * SNS → SQS subscription) and hands them to the egress. A message is deleted only once handed to the egress;
 * malformed messages, unknown listeners and refused addresses stay on the queue, so the queue's redrive
 * policy moves them to its dead-letter queue after maxReceiveCount.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { SqsOptionsSchema, type SqsOptions } from './options.js';
import type { Logger } from 'pino';
import type { PacketSource, PacketSourceContext } from '../../gateway/plugin-kit.js';
import { awsClientConfig } from '../../aws/client-config.js';
import { countDelivery, deliverDocumentRouted, needsAttention, summarize } from '../../gateway/plugin-kit.js';
import { sentTimestampOf, unwrapSqsBody } from './sqs-body.js';
import { SeenIds } from '../../gateway/plugin-kit.js';
import { sourceMetrics, type SourceMetrics } from '../../gateway/plugin-kit.js';

export { SqsOptionsSchema, type SqsOptions } from './options.js';

export interface SqsSourceDeps {
  readonly client?: SQSClient;
  readonly now?: () => number;
}

export type SqsOutcome = 'delivered' | 'expired' | 'duplicate' | 'malformed' | 'refused';

const MAX_BACKOFF_MS = 30_000;

export function createSqsSource(name: string, options: SqsOptions, ctx: PacketSourceContext, deps: SqsSourceDeps = {}): PacketSource {
  const client = deps.client ?? new SQSClient(awsClientConfig(options));
  const ownsClient = !deps.client;
  const logger = ctx.logger.child({ packetSource: name, kind: 'sqs' });
  const metrics = sourceMetrics(ctx.metrics);
  const now = deps.now ?? Date.now;
  const seen = new SeenIds(options.maxRememberedMessageIds);
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  let polls = 0;

  const handle = (m: Message): Promise<SqsOutcome> => handleMessage(m, { name, ctx, logger, metrics, seen, now: now() });

  async function pollOnce(): Promise<void> {
    const out = await client.send(new ReceiveMessageCommand({
      QueueUrl: options.queueUrl, MaxNumberOfMessages: options.maxMessages, WaitTimeSeconds: options.waitTimeSeconds,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      ...(options.visibilityTimeout !== undefined ? { VisibilityTimeout: options.visibilityTimeout } : {}),
    }), { abortSignal: abort.signal });
    polls++;
    const done: Message[] = [];
    for (const m of out.Messages ?? []) if (keep(await handle(m)) === false) done.push(m); // in order: MessageId memory sees each in turn
    // Not aborted: messages already sent must be deleted even while closing, or they would be sent again.
    if (done.length > 0) await deleteMessages(done);
  }

  async function deleteMessages(messages: Message[]): Promise<void> {
    // SQS DeleteMessageBatch: at most 10 entries; maxMessages is at most 10, so one call per receive.
    const out = await client.send(new DeleteMessageBatchCommand({
      QueueUrl: options.queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
    }));
    for (const f of out.Failed ?? []) {
      metrics.messages.inc({ source: name, outcome: 'delete-failed' });
      logger.warn({ outcome: 'delete-failed', messageId: messages[Number(f.Id)]?.MessageId, code: f.Code, error: f.Message }, 'SQS message could not be deleted; it will be received again');
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        await pollOnce();
        failures = 0;
      } catch (err) {
        if (abort.signal.aborted) break;
        failures++;
        metrics.messages.inc({ source: name, outcome: 'receive-error' });
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures - 1, 10));
        logger.warn({ outcome: 'receive-error', error: (err as Error).message, retryInMs: delay }, 'SQS receive failed');
        await sleep(delay, abort.signal);
      }
    }
  }

  return {
    async start() {
      logger.info({ queueUrl: options.queueUrl, waitTimeSeconds: options.waitTimeSeconds }, 'SQS poller started');
      loop = run();
    },
    async close() {
      abort.abort();
      await loop;
      if (ownsClient) client.destroy();
    },
    status: () => ({ kind: 'sqs', queueUrl: options.queueUrl, polls, running: loop !== undefined && !abort.signal.aborted }),
  };
}

/** Delete unless something needs the queue's redrive policy (malformed, refused). */
function keep(outcome: SqsOutcome): boolean { return outcome === 'malformed' || outcome === 'refused'; }

interface HandleContext {
  readonly name: string;
  readonly ctx: PacketSourceContext;
  readonly logger: Logger;
  readonly metrics: SourceMetrics;
  readonly seen: SeenIds;
  readonly now: number;
}

async function handleMessage(m: Message, h: HandleContext): Promise<SqsOutcome> {
  const ids = { messageId: m.MessageId, receiveCount: m.Attributes?.ApproximateReceiveCount };
  const done = (outcome: SqsOutcome, fields: Record<string, unknown>, msg: string): SqsOutcome => {
    h.metrics.messages.inc({ source: h.name, outcome });
    if (keep(outcome)) h.logger.warn({ outcome, ...ids, ...fields }, msg);
    else h.logger.debug({ outcome, ...ids, ...fields }, msg);
    return outcome;
  };
  if (m.MessageId && h.seen.has(m.MessageId)) return done('duplicate', {}, 'SQS message already handled; deleting it again');
  const body = unwrapSqsBody(m.Body, sentTimestampOf(m.Attributes), h.now);
  if (body instanceof Error) return done('malformed', { error: body.message }, 'SQS message left on the queue');
  const report = await deliverDocumentRouted(body.document, { egress: h.ctx.egress, listener: h.ctx.listener, now: body.now });
  if (report instanceof Error) return done('malformed', { envelope: body.envelope, error: report.message }, 'SQS message left on the queue');
  countDelivery(h.metrics, h.name, report);
  if (needsAttention(report)) {
    const outcome = report.rejected.length > 0 ? 'malformed' : 'refused';
    return done(outcome, { envelope: body.envelope, ...summarize(report) }, 'SQS message left on the queue');
  }
  if (m.MessageId) h.seen.add(m.MessageId);
  const outcome = report.sent === 0 && report.refused.length > 0 ? 'expired' : 'delivered';
  return done(outcome, { envelope: body.envelope, ...summarize(report) }, 'SQS message handled');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

