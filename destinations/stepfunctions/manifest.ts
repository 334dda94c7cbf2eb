/** Manifest of the `stepfunctions` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { StepFunctionsOptions } from './options.js';

export const stepfunctionsKind = defineDestinationKind({
  type: 'stepfunctions',
  options: StepFunctionsOptions,
  // Request/response: a client waits for the reply, so do not hold packets back to fill a batch.
  batchDefaults: { lingerMs: 0 },
  load: async () => (await import('./index.js')).createStepFunctionsDestination,
});
