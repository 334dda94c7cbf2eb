/** Options of the `sqs` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';
import { BodySchema } from '../../aws/body.js';
import { FifoSchema } from '../../aws/fifo.js';

// SQS message size: 256 KiB (262,144 bytes) per message and per SendMessageBatch call historically;
// AWS documents 1 MiB (1,048,576 bytes) for both since 2025. We default to the conservative 256 KiB
// (older regions, FIFO consumers, SNS fan-in) and let maxMessageBytes raise it up to 1 MiB.
export const SQS_DEFAULT_MAX_BYTES = 262_144;
export const SQS_MAX_BYTES = 1_048_576;

export const SqsOptions = Type.Object({
  queueUrl: Type.String({ minLength: 1, pattern: '^https?://', description: 'queue URL; ".fifo" suffix = FIFO queue' }),
  body: BodySchema,
  ...FifoSchema,
  maxMessageBytes: Type.Integer({ minimum: 1_024, maximum: SQS_MAX_BYTES, default: SQS_DEFAULT_MAX_BYTES, description: 'largest message and batch, bytes (256 KiB default, AWS allows up to 1 MiB)' }),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type SqsOptions = Static<typeof SqsOptions>;
