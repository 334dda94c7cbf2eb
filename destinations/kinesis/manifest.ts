/** Manifest of the `kinesis` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { KinesisOptions } from './options.js';

export const kinesisKind = defineDestinationKind({
  type: 'kinesis',
  options: KinesisOptions,
  // Kinesis PutRecords: 500 records, 5 MiB per call. A 100 ms linger fills them from 5,000
  // packets/s (the stream's consumers read per shard anyway, at 5 reads/s).
  batchDefaults: { maxPackets: 500, maxBytes: 5_242_880, lingerMs: 100 },
  iam: (o, c) => [{
    actions: ['kinesis:PutRecords'],
    resources: [o.streamArn ? o.streamArn : arn(c, 'kinesis', regionOf(o, c), `stream/${required(o, 'streamName', 'kinesis')}`)],
  }],
  load: async () => (await import('./index.js')).createKinesisDestination,
});
