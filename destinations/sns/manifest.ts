/** Manifest of the `sns` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { required } from '../../aws/iam.js';
import { SnsOptions } from './options.js';

export const snsKind = defineDestinationKind({
  type: 'sns',
  options: SnsOptions,
  // SNS PublishBatch: 10 entries, 256 KiB per call. A 20 ms linger fills them under load.
  batchDefaults: { maxPackets: 10, maxBytes: 262_144, lingerMs: 20 },
  iam: (o) => [{ actions: ['sns:Publish'], resources: [required(o, 'topicArn', 'sns')] }],
  load: async () => (await import('./index.js')).createSnsDestination,
});
