/** Manifest of the `dynamodb` destination: type, options schema, batch defaults, lazy loader. */
import { defineDestinationKind } from '../../gateway/plugin-kit.js';
import { DynamoDbOptions } from './options.js';

export const dynamodbKind = defineDestinationKind({
  type: 'dynamodb',
  options: DynamoDbOptions,
  load: async () => (await import('./index.js')).createDynamoDbDestination,
});
