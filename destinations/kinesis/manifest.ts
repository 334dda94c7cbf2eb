/** Manifest of the `kinesis` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { KinesisOptions } from './options.js';

export const kinesisKind = defineDestinationKind({
  type: 'kinesis',
  options: KinesisOptions,
  iam: (o, c) => [{
    actions: ['kinesis:PutRecords'],
    resources: [o.streamArn ? o.streamArn : arn(c, 'kinesis', regionOf(o, c), `stream/${required(o, 'streamName', 'kinesis')}`)],
  }],
  load: async () => (await import('./index.js')).createKinesisDestination,
});
