/**
 * s3: one NDJSON object per batch (one event JSON line per packet) under a time-based key:
 *   <prefix>YYYY/MM/DD/HH/<listener>-<iso time>-<uuid>.ndjson   (UTC, time of the batch's first packet)
 * A failed PutObject makes the whole batch retryable (or failed, for access denied and the like).
 */
import { randomUUID } from 'node:crypto';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { allOutcomes, delivered, type Destination } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { eventJson } from '../../aws/body.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { S3Options } from './options.js';
export { S3Options } from './options.js';

// S3 PutObject: a single PUT carries at most 5 GiB; batches are far smaller (the batcher's maxBytes).
export const S3_MAX_OBJECT_BYTES = 5 * 1024 ** 3;

/** The object key for a batch (pure). */
export function s3ObjectKey(prefix: string, listener: string, at: Date, id: string = randomUUID()): string {
  const iso = at.toISOString();
  const [y, mo, d, h] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13)];
  return `${prefix}${y}/${mo}/${d}/${h}/${listener}-${iso.replace(/:/g, '')}-${id}.ndjson`;
}

export function createS3Destination(name: string, o: S3Options): Destination {
  const client = new S3Client({ ...awsClientConfig(o), forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined });
  const line = memoPerPacket((p: Packet) => `${eventJson(p)}\n`);
  const limits = { maxBatchBytes: S3_MAX_OBJECT_BYTES, packetBytes: (p: Packet) => Buffer.byteLength(line(p)) };
  return {
    kind: 's3', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      if (chunk.length === 0) return { outcomes: [] };
      const first = chunk[0]!;
      await client.send(new PutObjectCommand({
        Bucket: o.bucket,
        Key: s3ObjectKey(o.prefix, first.listener, new Date(first.receivedAt)),
        Body: chunk.map(line).join(''),
        ContentType: 'application/x-ndjson',
      }));
      return { outcomes: allOutcomes(chunk.length, delivered) };
    }),
    close: closeOnce(client),
  };
}

