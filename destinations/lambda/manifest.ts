/** Manifest of the `lambda` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { lambdaArn, regionOf, required } from '../../aws/iam.js';
import { LambdaOptions } from './options.js';

export const lambdaKind = defineDestinationKind({
  type: 'lambda',
  options: LambdaOptions,
  // Request/response: a client waits for the reply, so do not hold packets back to fill a batch.
  batchDefaults: { lingerMs: 0 },
  // Invoke and InvokeWithResponseStream are both authorised by lambda:InvokeFunction.
  iam: (o, c) => {
    const fn = lambdaArn(required(o, 'functionName', 'lambda'), c, regionOf(o, c));
    return [{ actions: ['lambda:InvokeFunction'], resources: [o.qualifier ? `${fn}:${o.qualifier}` : fn] }];
  },
  load: async () => (await import('./index.js')).createLambdaDestination,
});
