/** Manifest of the `dynamodb` destination: type, options schema, batch defaults, lazy loader, IAM statements. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { arn, regionOf, required } from '../../aws/iam.js';
import { DynamoDbOptions } from './options.js';

export const dynamodbKind = defineDestinationKind({
  type: 'dynamodb',
  options: DynamoDbOptions,
  iam: (o, c) => [{
    actions: ['dynamodb:BatchWriteItem'],
    resources: [arn(c, 'dynamodb', regionOf(o, c), `table/${required(o, 'tableName', 'dynamodb')}`)],
  }],
  load: async () => (await import('./index.js')).createDynamoDbDestination,
});
