/** Options of the `eventbridge` destination (schema only: loading it does not load the AWS SDK). */
import { Type, type Static } from '@sinclair/typebox';
import { AwsConnectionSchema } from '../../aws/connection-schema.js';

export const EventBridgeOptions = Type.Object({
  source: Type.String({ minLength: 1, maxLength: 256, default: 'udp-gateway' }),
  detailType: Type.String({ minLength: 1, maxLength: 128, default: 'UDP Packet' }),
  eventBusName: Type.Optional(Type.String({ minLength: 1, description: 'bus name or ARN; default the account\'s default bus' })),
  ...AwsConnectionSchema,
}, { additionalProperties: false });
export type EventBridgeOptions = Static<typeof EventBridgeOptions>;
