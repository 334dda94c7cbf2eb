/**
 * sqs: one packet per message, SendMessageBatch. Standard and FIFO queues (a queue URL ending
 * in ".fifo"); message group and deduplication ids from expressions over the packet.
 */
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { type Destination } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { textBody } from '../../aws/body.js';
import { fifoBatchEntries, fifoIds, markFailedEntries } from '../../aws/fifo.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { SqsOptions } from './options.js';
export { SqsOptions } from './options.js';
export { SQS_DEFAULT_MAX_BYTES, SQS_MAX_BYTES } from './options.js';

// SQS SendMessageBatch: at most 10 entries per call.
export const SQS_MAX_BATCH_ENTRIES = 10;

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
  return {
    kind: 'sqs', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      const { outcomes, entries } = fifoBatchEntries(chunk, ids, (p, id, f): SendMessageBatchRequestEntry => ({ Id: id, MessageBody: body(p), ...f }));
      if (entries.length === 0) return { outcomes };
      const res = await client.send(new SendMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: entries }));
      markFailedEntries(outcomes, res.Failed);
      return { outcomes };
    }),
    close: closeOnce(client),
  };
}

