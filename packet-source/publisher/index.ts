/**
 * Publisher library ('udp-gateway/publisher'): send out-of-band packets and async replies to a gateway
 * through an SNS topic (Publish) or an SQS queue (SendMessage / SendMessageBatch). Usable from a Lambda:
 * clients are created once per process and reused across invocations.
 *
 *   import { sendPackets } from 'udp-gateway/publisher';
 *   await sendPackets({ topicArn }, [{ address: '203.0.113.5', port: 51234, data: 'wake up', ttlSeconds: 30 }]);
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MAX_MESSAGE_BYTES, buildEgressDocuments, buildReplyDocuments, groupBatches, type PacketInput, type ReplyInput } from './publisher-build.js';

export { buildEgressDocuments, buildReplyDocuments, encodePacket, encodeReply, MAX_MESSAGE_BYTES } from './publisher-build.js';
export type { PacketInput, ReplyInput } from './publisher-build.js';

export interface TopicTarget { readonly topicArn: string }
export interface QueueTarget { readonly queueUrl: string }
export type Target = TopicTarget | QueueTarget;

interface CommonOptions {
  /** Most packets (or replies) per message; default as many as fit in 256 KiB. */
  readonly batchSize?: number;
  /** Most bytes per message; default 262,144 (SNS and SQS limit). */
  readonly maxMessageBytes?: number;
  /** FIFO topics and queues (.fifo): the message group; default "udp-gateway". */
  readonly messageGroupId?: string;
}
export interface TopicOptions extends CommonOptions { readonly client?: SNSClient }
export interface QueueOptions extends CommonOptions { readonly client?: SQSClient }

export interface SendResult {
  /** Messages published (one per document). */
  readonly messageIds: string[];
  /** Documents that could not be published (their packets were not sent). */
  readonly failed: { readonly document: number; readonly code?: string; readonly message?: string }[];
}

let defaultSns: SNSClient | undefined;
let defaultSqs: SQSClient | undefined;

export function sendPackets(target: TopicTarget, packets: readonly PacketInput[], opts?: TopicOptions): Promise<SendResult>;
export function sendPackets(target: QueueTarget, packets: readonly PacketInput[], opts?: QueueOptions): Promise<SendResult>;
export function sendPackets(target: Target, packets: readonly PacketInput[], opts: TopicOptions | QueueOptions = {}): Promise<SendResult> {
  return publish(target, buildEgressDocuments(packets, opts.maxMessageBytes ?? MAX_MESSAGE_BYTES, opts.batchSize), opts);
}

export function sendReplies(target: TopicTarget, replies: readonly ReplyInput[], opts?: TopicOptions): Promise<SendResult>;
export function sendReplies(target: QueueTarget, replies: readonly ReplyInput[], opts?: QueueOptions): Promise<SendResult>;
export function sendReplies(target: Target, replies: readonly ReplyInput[], opts: TopicOptions | QueueOptions = {}): Promise<SendResult> {
  return publish(target, buildReplyDocuments(replies, opts.maxMessageBytes ?? MAX_MESSAGE_BYTES, opts.batchSize), opts);
}

async function publish(target: Target, docs: string[], opts: TopicOptions | QueueOptions): Promise<SendResult> {
  if (docs.length === 0) return { messageIds: [], failed: [] };
  const result = 'topicArn' in target
    ? await publishToTopic(target.topicArn, docs, (opts.client as SNSClient | undefined) ?? (defaultSns ??= new SNSClient({})), opts)
    : await publishToQueue(target.queueUrl, docs, (opts.client as SQSClient | undefined) ?? (defaultSqs ??= new SQSClient({})), opts);
  if (result.messageIds.length === 0) {
    throw new AggregateError(result.failed.map((f) => new Error(`${f.code ?? 'Error'}: ${f.message ?? ''}`)), `no message could be published (${result.failed.length} failed)`);
  }
  return result;
}

function fifo(name: string, opts: CommonOptions): { MessageGroupId?: string; MessageDeduplicationId?: string } {
  return name.endsWith('.fifo') ? { MessageGroupId: opts.messageGroupId ?? 'udp-gateway', MessageDeduplicationId: randomUUID() } : {};
}

async function publishToTopic(topicArn: string, docs: string[], client: SNSClient, opts: CommonOptions): Promise<SendResult> {
  const settled = await Promise.allSettled(docs.map((Message) => client.send(new PublishCommand({ TopicArn: topicArn, Message, ...fifo(topicArn, opts) }))));
  const messageIds: string[] = [];
  const failed: SendResult['failed'] = [];
  settled.forEach((s, document) => {
    if (s.status === 'fulfilled') messageIds.push(s.value.MessageId ?? '');
    else failed.push({ document, code: (s.reason as Error).name, message: (s.reason as Error).message });
  });
  return { messageIds, failed };
}

async function publishToQueue(queueUrl: string, docs: string[], client: SQSClient, opts: CommonOptions): Promise<SendResult> {
  const messageIds: string[] = [];
  const failed: SendResult['failed'] = [];
  if (docs.length === 1) {
    try {
      const out = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: docs[0]!, ...fifo(queueUrl, opts) }));
      messageIds.push(out.MessageId ?? '');
    } catch (err) { failed.push({ document: 0, code: (err as Error).name, message: (err as Error).message }); }
    return { messageIds, failed };
  }
  // SQS SendMessageBatch: at most 10 entries and 256 KiB for the whole batch.
  let offset = 0;
  for (const batch of groupBatches(docs, 10, MAX_MESSAGE_BYTES)) {
    const base = offset;
    offset += batch.length;
    try {
      const out = await client.send(new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((MessageBody, i) => ({ Id: String(base + i), MessageBody, ...fifo(queueUrl, opts) })),
      }));
      for (const s of out.Successful ?? []) messageIds.push(s.MessageId ?? '');
      for (const f of out.Failed ?? []) failed.push({ document: Number(f.Id), ...(f.Code ? { code: f.Code } : {}), ...(f.Message ? { message: f.Message } : {}) });
    } catch (err) {
      batch.forEach((_, i) => failed.push({ document: base + i, code: (err as Error).name, message: (err as Error).message }));
    }
  }
  return { messageIds, failed };
}
