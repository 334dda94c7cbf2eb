/**
 * firehose: one NDJSON line per packet (the single-message event JSON + "\n"), PutRecordBatch.
 * Only the records the service reports failed (per-record ErrorCode) come back 'retryable'.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { delivered, type Destination, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { eventJson } from '../../aws/body.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { outcomeForEntryError } from '../../aws/errors.js';
import { FirehoseOptions } from './options.js';
export { FirehoseOptions } from './options.js';

// Firehose PutRecordBatch: at most 500 records per call; each record at most 1,000 KiB
// (1,024,000 bytes) before base64; the whole call at most 4 MiB (4,194,304 bytes).
export const FIREHOSE_MAX_RECORDS = 500;
export const FIREHOSE_MAX_RECORD_BYTES = 1_024_000;
export const FIREHOSE_MAX_CALL_BYTES = 4_194_304;

export function createFirehoseDestination(name: string, o: FirehoseOptions): Destination {
  const client = new FirehoseClient(awsClientConfig(o));
  const line = memoPerPacket((p: Packet) => Buffer.from(`${eventJson(p)}\n`, 'utf8'));
  const limits = {
    maxBatchPackets: FIREHOSE_MAX_RECORDS,
    maxBatchBytes: FIREHOSE_MAX_CALL_BYTES,
    maxPacketBytes: FIREHOSE_MAX_RECORD_BYTES,
    packetBytes: (p: Packet) => line(p).length,
  };
  return {
    kind: 'firehose', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      const outcomes: DeliveryOutcome[] = chunk.map(() => delivered);
      if (chunk.length === 0) return { outcomes };
      const res = await client.send(new PutRecordBatchCommand({
        DeliveryStreamName: o.deliveryStreamName,
        Records: chunk.map((p) => ({ Data: line(p) })),
      }));
      if (res.FailedPutCount) {
        res.RequestResponses?.forEach((r, i) => { if (r.ErrorCode) outcomes[i] = outcomeForEntryError(r.ErrorCode, r.ErrorMessage); });
      }
      return { outcomes };
    }),
    close: closeOnce(client),
  };
}

