/**
 * Each AWS kind batches, by default, as much as its service takes in one call (the limit the kind
 * declares, with its citation, in Destination.limits), with a linger that fills batches under
 * load: one API call per full batch. bench/aws-calls.ts counts the calls against moto_server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import '../../app/builtin-kinds.js';
import { resolveConfig } from '../../app/config/load.js';
import { destinationKinds } from '../../gateway/extension/registry.js';
import { createFromKind } from '../../gateway/extension/destination.js';
import { useFakeAwsEnv } from './moto.js';

beforeAll(() => useFakeAwsEnv());

const endpoint = 'http://127.0.0.1:9'; // never called
const KINDS: [string, Record<string, unknown>, number | undefined][] = [
  ['sqs', { queueUrl: `${endpoint}/000000000000/q` }, 10],
  ['sns', { topicArn: 'arn:aws:sns:us-east-1:000000000000:t' }, 10],
  ['eventbridge', {}, 10],
  ['kinesis', { streamName: 's' }, 500],
  ['firehose', { deliveryStreamName: 'f' }, 500],
  ['cloudwatch-logs', { logGroupName: 'g', logStreamName: 's' }, 10_000],
  ['dynamodb', { tableName: 'table' }, 25],
  ['s3', { bucket: 'b' }, undefined],
];

describe('AWS batch defaults', () => {
  it.each(KINDS)('%s: a default batch is one full API call, capped by bytes, with a linger', async (type, options, serviceLimit) => {
    const cfg = resolveConfig({ listeners: [{ name: 'l', port: 0, destinations: [{ type, endpoint, region: 'us-east-1', ...options }] }] }, '/tmp');
    const d = cfg.listeners[0]!.destinations[0]!;
    const destination = await createFromKind(destinationKinds.get(type)!, d.name, d.options as never, { logger: pino({ level: 'silent' }), clients: { replyByTag: () => true, sendToClient: () => undefined }, baseDir: '/tmp' });
    try {
      const limits = destination.limits ?? {};
      expect(limits.maxBatchPackets).toBe(serviceLimit);
      if (serviceLimit !== undefined) expect(d.batch.maxPackets).toBe(serviceLimit);
      else expect(d.batch.maxPackets).toBeGreaterThanOrEqual(10_000);
      // Bytes: the service's per-call limit caps the batch, the default does not narrow it (S3 has no
      // per-call limit worth holding in memory: 8 MiB objects).
      const effectiveBytes = Math.min(d.batch.maxBytes, limits.maxBatchBytes ?? Infinity);
      expect(effectiveBytes).toBe(type === 's3' ? 8_388_608 : limits.maxBatchBytes);
      expect(d.batch.lingerMs).toBeGreaterThanOrEqual(20);
      // A user's own setting still wins.
      const own = resolveConfig({ listeners: [{ name: 'l', port: 0, destinations: [{ type, endpoint, ...options, batch: { maxPackets: 3, lingerMs: 1 } }] }] }, '/tmp');
      expect(own.listeners[0]!.destinations[0]!.batch).toMatchObject({ maxPackets: 3, lingerMs: 1 });
    } finally {
      await destination.close?.();
    }
  });
});
