/** Manifest of the `sqs` packet source: type, options schema, lazy loader. */
import { definePacketSourceKind } from '../../gateway/plugin-kit.js';
import { SqsOptionsSchema } from './options.js';

export const sqsSourceKind = definePacketSourceKind({
  type: 'sqs',
  options: SqsOptionsSchema,
  load: async () => (await import('./index.js')).createSqsSource,
});
