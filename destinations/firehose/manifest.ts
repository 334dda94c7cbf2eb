/** Manifest of the `firehose` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { FirehoseOptions } from './options.js';

export const firehoseKind = defineDestinationKind({
  type: 'firehose',
  options: FirehoseOptions,
  iam: (o, c) => [{
    actions: ['firehose:PutRecordBatch'],
    resources: [arn(c, 'firehose', regionOf(o, c), `deliverystream/${required(o, 'deliveryStreamName', 'firehose')}`)],
  }],
  load: async () => (await import('./index.js')).createFirehoseDestination,
});
