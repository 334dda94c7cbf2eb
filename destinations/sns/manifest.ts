/** Manifest of the `sns` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { required } from '../../aws/iam.js';
import { SnsOptions } from './options.js';

export const snsKind = defineDestinationKind({
  type: 'sns',
  options: SnsOptions,
  iam: (o) => [{ actions: ['sns:Publish'], resources: [required(o, 'topicArn', 'sns')] }],
  load: async () => (await import('./index.js')).createSnsDestination,
});
