/** Manifest of the `sqs` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { queueArnFromUrl, regionOf, required } from '../../aws/iam.js';
import { SqsOptions } from './options.js';

export const sqsKind = defineDestinationKind({
  type: 'sqs',
  options: SqsOptions,
  // SQS SendMessageBatch: 10 entries and 1 MiB per call (the messages' own limit, maxMessageBytes,
  // caps the bytes). A 20 ms linger fills them under load (500 packets/s and up).
  batchDefaults: { maxPackets: 10, lingerMs: 20 },
  iam: (o, c) => [{ actions: ['sqs:SendMessage'], resources: [queueArnFromUrl(required(o, 'queueUrl', 'sqs'), c, regionOf(o, c))] }],
  load: async () => (await import('./index.js')).createSqsDestination,
});
