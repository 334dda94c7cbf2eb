/** Options of the `dynamodb` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';
import { ExpressionSchema } from '../../aws/fifo.js';

const attributeName = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });

export const DynamoDbOptions = Type.Object({
  tableName: Type.String({ minLength: 3, maxLength: 255 }),
  partitionKeyAttribute: Type.String({ minLength: 1, maxLength: 255, default: 'pk' }),
  partitionKey: ExpressionSchema('partition key value (string)', '${tag}'),
  sortKeyAttribute: Type.Optional(attributeName('number attribute holding receivedAt (ms), when the table has a sort key')),
  ttlAttribute: Type.Optional(attributeName('number attribute holding the expiry (epoch seconds); needs ttlSeconds')),
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type DynamoDbOptions = Static<typeof DynamoDbOptions>;
