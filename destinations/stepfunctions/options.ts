/** Options of the `stepfunctions` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';

export const StepFunctionsOptions = Type.Object({
  stateMachineArn: Type.String({ minLength: 1, pattern: '^arn:' }),
  executionType: Type.Union([Type.Literal('EXPRESS'), Type.Literal('STANDARD')], { default: 'EXPRESS', description: 'EXPRESS: synchronous, replies; STANDARD: asynchronous, no replies' }),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type StepFunctionsOptions = Static<typeof StepFunctionsOptions>;
