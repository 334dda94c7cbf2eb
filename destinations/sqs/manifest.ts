/** Manifest of the `sqs` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { SqsOptions } from './options.js';

export const sqsKind = defineDestinationKind({
  type: 'sqs',
  options: SqsOptions,
  load: async () => (await import('./index.js')).createSqsDestination,
});
