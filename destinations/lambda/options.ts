/** Options of the `lambda` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';

export const LambdaOptions = Type.Object({
  functionName: Type.String({ minLength: 1, description: 'name, ARN or partial ARN' }),
  invocation: Type.Union([Type.Literal('RequestResponse'), Type.Literal('Event'), Type.Literal('ResponseStream')], { default: 'RequestResponse' }),
  qualifier: Type.Optional(Type.String({ minLength: 1, description: 'version or alias' })),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type LambdaOptions = Static<typeof LambdaOptions>;
