/** Options of the `kinesis` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';
import { BodySchema } from '../../aws/body.js';
import { ExpressionSchema } from '../../aws/fifo.js';

export const KinesisOptions = Type.Object({
  streamName: Type.Optional(Type.String({ minLength: 1 })),
  streamArn: Type.Optional(Type.String({ minLength: 1, pattern: '^arn:' })),
  partitionKey: ExpressionSchema('partition key', '${remote.address}'),
  body: BodySchema,
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type KinesisOptions = Static<typeof KinesisOptions>;
