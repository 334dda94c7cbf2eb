/** Options of the `firehose` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';

export const FirehoseOptions = Type.Object({
  deliveryStreamName: Type.String({ minLength: 1 }),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type FirehoseOptions = Static<typeof FirehoseOptions>;
