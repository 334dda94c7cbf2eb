/** Manifest of the `firehose` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { FirehoseOptions } from './options.js';

export const firehoseKind = defineDestinationKind({
  type: 'firehose',
  options: FirehoseOptions,
  // Firehose PutRecordBatch: 500 records, 4 MiB per call. Firehose buffers for 60 s or more before it
  // delivers, so a 500 ms linger costs nothing that shows and fills batches from 1,000 packets/s.
  batchDefaults: { maxPackets: 500, maxBytes: 4_194_304, lingerMs: 500 },
  iam: (o, c) => [{
    actions: ['firehose:PutRecordBatch'],
    resources: [arn(c, 'firehose', regionOf(o, c), `deliverystream/${required(o, 'deliveryStreamName', 'firehose')}`)],
  }],
  load: async () => (await import('./index.js')).createFirehoseDestination,
});
