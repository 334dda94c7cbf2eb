/** Options of the `sns` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';
import { BodySchema } from '../../aws/body.js';
import { FifoSchema } from '../../aws/fifo.js';

export const SnsOptions = Type.Object({
  topicArn: Type.String({ minLength: 1, pattern: '^arn:', description: 'topic ARN; ".fifo" suffix = FIFO topic' }),
  body: BodySchema,
  ...FifoSchema,
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type SnsOptions = Static<typeof SnsOptions>;
