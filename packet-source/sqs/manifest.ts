/** Manifest of the `sqs` packet source: type, options schema, lazy loader. */
import { definePacketSourceKind } from '../../gateway/plugin-kit.js';
import { queueArnFromUrl, regionOf, required } from '../../aws/iam.js';
import { SqsOptionsSchema } from './options.js';

export const sqsSourceKind = definePacketSourceKind({
  type: 'sqs',
  options: SqsOptionsSchema,
  // ReceiveMessage, and DeleteMessageBatch (authorised by sqs:DeleteMessage).
  iam: (o, c) => [{ actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: [queueArnFromUrl(required(o, 'queueUrl', 'sqs packet source'), c, regionOf(o, c))] }],
  load: async () => (await import('./index.js')).createSqsSource,
});
