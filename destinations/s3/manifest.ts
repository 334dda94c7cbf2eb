/** Manifest of the `s3` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { required } from '../../aws/iam.js';
import { S3Options } from './options.js';

export const s3Kind = defineDestinationKind({
  type: 's3',
  options: S3Options,
  // S3: one object per batch, and every PutObject is billed the same, whatever its size: objects of up
  // to 8 MiB (100,000 packets), or what arrived in a second.
  batchDefaults: { maxPackets: 100_000, maxBytes: 8_388_608, lingerMs: 1_000 },
  // One object per batch under the prefix: the key is not known in advance, so the prefix pattern.
  iam: (o, c) => [{ actions: ['s3:PutObject'], resources: [`arn:${c.partition}:s3:::${required(o, 'bucket', 's3')}/${o.prefix ?? 'udp-gateway/'}*`] }],
  load: async () => (await import('./index.js')).createS3Destination,
});
