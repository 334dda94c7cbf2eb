/**
 * kinesis: one packet per record, PutRecords. Partition key from an expression (default: the
 * client's address, so one client's packets stay in order on one shard). Only the records the
 * service reports failed (per-record ErrorCode) come back 'retryable'; the core resubmits those.
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { delivered, failed, type Destination, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { binaryBody } from '../../aws/body.js';
import { compileExpression, createError } from '../../aws/create-error.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { outcomeForEntryError } from '../../aws/errors.js';
import { KinesisOptions } from './options.js';
export { KinesisOptions } from './options.js';

// Kinesis PutRecords: at most 500 records per call; each record at most 1 MiB (data + partition
// key); the whole request at most 5 MiB (data + partition keys). Partition key: 1..256 characters.
export const KINESIS_MAX_RECORDS = 500;
export const KINESIS_MAX_RECORD_BYTES = 1_048_576;
export const KINESIS_MAX_CALL_BYTES = 5_242_880;
const MAX_PARTITION_KEY = 256;

interface Encoded { key: string; data: Buffer }

export function createKinesisDestination(name: string, o: KinesisOptions): Destination {
  if (!o.streamName === !o.streamArn) throw createError(name, 'give exactly one of streamName or streamArn');
  const client = new KinesisClient(awsClientConfig(o));
  const keyOf = compileExpression(name, 'partitionKey', o.partitionKey);
  const encode = memoPerPacket((p: Packet): Encoded => ({ key: keyOf(p), data: binaryBody(p, o.body) }));
  const limits = {
    maxBatchPackets: KINESIS_MAX_RECORDS,
    maxBatchBytes: KINESIS_MAX_CALL_BYTES,
    maxPacketBytes: KINESIS_MAX_RECORD_BYTES,
    packetBytes: (p: Packet) => { const e = encode(p); return e.data.length + Buffer.byteLength(e.key); },
  };
  return {
    kind: 'kinesis', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      const outcomes: DeliveryOutcome[] = chunk.map(() => delivered);
      const sent: number[] = [];
      const records: PutRecordsRequestEntry[] = [];
      chunk.forEach((p, i) => {
        const { key, data } = encode(p);
        if (key.length === 0 || key.length > MAX_PARTITION_KEY) { outcomes[i] = failed(`partition key must be 1..${MAX_PARTITION_KEY} characters, got ${key.length}`); return; }
        sent.push(i);
        records.push({ PartitionKey: key, Data: data });
      });
      if (records.length === 0) return { outcomes };
      const res = await client.send(new PutRecordsCommand({ StreamName: o.streamName, StreamARN: o.streamArn, Records: records }));
      if (res.FailedRecordCount) {
        res.Records?.forEach((r, k) => { if (r.ErrorCode) outcomes[sent[k]!] = outcomeForEntryError(r.ErrorCode, r.ErrorMessage); });
      }
      return { outcomes };
    }),
    close: closeOnce(client),
  };
}

