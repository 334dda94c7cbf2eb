/** Options of the `sqs` packet source (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';

export const SqsOptionsSchema = Type.Object({
  queueUrl: Type.String({ minLength: 1 }),
  region: Type.Optional(Type.String({ minLength: 1 })),
  endpoint: Type.Optional(Type.String({ minLength: 1, pattern: '^https?://' })),
  // SQS ReceiveMessage: WaitTimeSeconds 0..20 (long polling), MaxNumberOfMessages 1..10,
  // VisibilityTimeout 0..43200 s (12 h). https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html
  waitTimeSeconds: Type.Integer({ minimum: 0, maximum: 20, default: 20 }),
  maxMessages: Type.Integer({ minimum: 1, maximum: 10, default: 10 }),
  visibilityTimeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 43_200 })),
  maxRememberedMessageIds: Type.Integer({ minimum: 1, default: 10_000 }),
}, { additionalProperties: false });

export type SqsOptions = Static<typeof SqsOptionsSchema>;
