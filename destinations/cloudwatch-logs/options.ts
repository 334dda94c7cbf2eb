/** Options of the `cloudwatch-logs` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';
import { BodySchema } from '../../aws/body.js';

export const CloudWatchLogsOptions = Type.Object({
  logGroupName: Type.String({ minLength: 1, maxLength: 512 }),
  logStreamName: Type.String({ minLength: 1, maxLength: 512 }),
  createIfMissing: Type.Boolean({ default: false, description: 'create the log stream when PutLogEvents reports it missing' }),
  body: BodySchema,
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type CloudWatchLogsOptions = Static<typeof CloudWatchLogsOptions>;
