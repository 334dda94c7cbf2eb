/** Manifest of the `lambda` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { LambdaOptions } from './options.js';

export const lambdaKind = defineDestinationKind({
  type: 'lambda',
  options: LambdaOptions,
  // Request/response: a client waits for the reply, so do not hold packets back to fill a batch.
  batchDefaults: { lingerMs: 0 },
  load: async () => (await import('./index.js')).createLambdaDestination,
});
