/** Manifest of the `dynamodb` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { DynamoDbOptions } from './options.js';

export const dynamodbKind = defineDestinationKind({
  type: 'dynamodb',
  options: DynamoDbOptions,
  // DynamoDB BatchWriteItem: 25 items, 16 MiB per call. A 20 ms linger fills them from 1,250 packets/s.
  batchDefaults: { maxPackets: 25, maxBytes: 16_777_216, lingerMs: 20 },
  iam: (o, c) => [{
    actions: ['dynamodb:BatchWriteItem'],
    resources: [arn(c, 'dynamodb', regionOf(o, c), `table/${required(o, 'tableName', 'dynamodb')}`)],
  }],
  load: async () => (await import('./index.js')).createDynamoDbDestination,
});
