/** Manifest of the `stepfunctions` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { required } from '../../aws/iam.js';
import { StepFunctionsOptions } from './options.js';

export const stepfunctionsKind = defineDestinationKind({
  type: 'stepfunctions',
  options: StepFunctionsOptions,
  // Request/response: a client waits for the reply, so do not hold packets back to fill a batch.
  batchDefaults: { lingerMs: 0 },
  // EXPRESS runs synchronously (StartSyncExecution, replies), STANDARD asynchronously (StartExecution).
  iam: (o) => [{
    actions: [o.executionType === 'STANDARD' ? 'states:StartExecution' : 'states:StartSyncExecution'],
    resources: [required(o, 'stateMachineArn', 'stepfunctions')],
  }],
  load: async () => (await import('./index.js')).createStepFunctionsDestination,
});
