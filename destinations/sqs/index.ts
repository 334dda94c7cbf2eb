/**
 * sqs: one packet per message, SendMessageBatch. Standard and FIFO queues (a queue URL ending
 * in ".fifo"); message group and deduplication ids from expressions over the packet.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { defineDestinationKind, delivered, failed, type Destination, type DeliveryOutcome } from '../../gateway/destination.js';
import type { Packet } from '../../gateway/packet.js';
import { AwsConnectionSchema, awsClientConfig } from '../aws/client-config.js';
import { BodySchema, textBody } from '../aws/body.js';
import { FifoSchema, fifoIds } from '../aws/fifo.js';
import { memoPerPacket, sendWithinLimits } from '../aws/batch.js';
import { outcomeForEntryError } from '../aws/errors.js';

// SQS SendMessageBatch: at most 10 entries per call.
export const SQS_MAX_BATCH_ENTRIES = 10;
// SQS message size: 256 KiB (262,144 bytes) per message and per SendMessageBatch call historically;
// AWS documents 1 MiB (1,048,576 bytes) for both since 2025. We default to the conservative 256 KiB
// (older regions, FIFO consumers, SNS fan-in) and let maxMessageBytes raise it up to 1 MiB.
export const SQS_DEFAULT_MAX_BYTES = 262_144;
export const SQS_MAX_BYTES = 1_048_576;

export const SqsOptions = Type.Object({
  queueUrl: Type.String({ minLength: 1, pattern: '^https?://', description: 'queue URL; ".fifo" suffix = FIFO queue' }),
  body: BodySchema,
  ...FifoSchema,
  maxMessageBytes: Type.Integer({ minimum: 1_024, maximum: SQS_MAX_BYTES, default: SQS_DEFAULT_MAX_BYTES, description: 'largest message and batch, bytes (256 KiB default, AWS allows up to 1 MiB)' }),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type SqsOptions = Static<typeof SqsOptions>;

export function createSqsDestination(name: string, o: SqsOptions): Destination {
  const client = new SQSClient(awsClientConfig(o));
  const ids = fifoIds(name, o.queueUrl.endsWith('.fifo'), o);
  const body = memoPerPacket((p: Packet) => textBody(p, o.body));
  const limits = {
    maxBatchPackets: SQS_MAX_BATCH_ENTRIES,
    maxBatchBytes: o.maxMessageBytes,
    maxPacketBytes: o.maxMessageBytes,
    packetBytes: (p: Packet) => Buffer.byteLength(body(p)),
  };
  let closed = false;
  return {
    kind: 'sqs', name, limits,
    send: (batch) => sendWithinLimits(batch, limits, async (chunk) => {
      const outcomes: DeliveryOutcome[] = chunk.map(() => delivered);
      const entries: SendMessageBatchRequestEntry[] = [];
      chunk.forEach((p, i) => {
        const f = ids(p);
        if (f instanceof Error) outcomes[i] = failed(f.message);
        else entries.push({ Id: String(i), MessageBody: body(p), ...f });
      });
      if (entries.length === 0) return { outcomes };
      const res = await client.send(new SendMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: entries }));
      for (const f of res.Failed ?? []) outcomes[Number(f.Id)] = outcomeForEntryError(f.Code, f.Message, f.SenderFault);
      return { outcomes };
    }),
    async close() { if (!closed) { closed = true; client.destroy(); } },
  };
}

export const sqsKind = defineDestinationKind({
  type: 'sqs',
  options: SqsOptions,
  create: (name, options) => createSqsDestination(name, options),
});
