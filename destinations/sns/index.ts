/**
 * sns: one packet per message, PublishBatch to a topic. FIFO topics (ARN ending in ".fifo") get
 * message group and deduplication ids from expressions.
 */
import { SNSClient, PublishBatchCommand, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { type Destination } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { textBody } from '../../aws/body.js';
import { fifoBatchEntries, fifoIds, markFailedEntries } from '../../aws/fifo.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { SnsOptions } from './options.js';
export { SnsOptions } from './options.js';

// SNS PublishBatch: at most 10 entries; total payload of all messages at most 256 KiB (262,144 bytes).
export const SNS_MAX_BATCH_ENTRIES = 10;
export const SNS_MAX_BATCH_BYTES = 262_144;

export function createSnsDestination(name: string, o: SnsOptions): Destination {
  const client = new SNSClient(awsClientConfig(o));
  const ids = fifoIds(name, o.topicArn.endsWith('.fifo'), o);
  const body = memoPerPacket((p: Packet) => textBody(p, o.body));
  const limits = {
    maxBatchPackets: SNS_MAX_BATCH_ENTRIES,
    maxBatchBytes: SNS_MAX_BATCH_BYTES,
    maxPacketBytes: SNS_MAX_BATCH_BYTES,
    packetBytes: (p: Packet) => Buffer.byteLength(body(p)),
  };
  return {
    kind: 'sns', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      const { outcomes, entries } = fifoBatchEntries(chunk, ids, (p, id, f): PublishBatchRequestEntry => ({ Id: id, Message: body(p), ...f }));
      if (entries.length === 0) return { outcomes };
      const res = await client.send(new PublishBatchCommand({ TopicArn: o.topicArn, PublishBatchRequestEntries: entries }));
      markFailedEntries(outcomes, res.Failed);
      return { outcomes };
    }),
    close: closeOnce(client),
  };
}

