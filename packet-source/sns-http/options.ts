/** Options of the `sns-http` packet source. */
import { Type, type Static } from '@sinclair/typebox';

export const DEFAULT_CERTIFICATE_HOST_PATTERN = '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$';

export const SnsHttpOptionsSchema = Type.Object({
  host: Type.String({ default: '0.0.0.0', description: 'address to bind; SNS must reach it' }),
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  path: Type.String({ default: '/sns', pattern: '^/' }),
  topicArns: Type.Array(Type.String({ pattern: '^arn:' }), { minItems: 1, description: 'topics whose subscriptions are confirmed and whose notifications are accepted' }),
  certificateHostPattern: Type.String({ default: DEFAULT_CERTIFICATE_HOST_PATTERN, description: 'regular expression the SigningCertURL and SubscribeURL hosts must match' }),
  verifySignatures: Type.Boolean({ default: true }),
  maxRememberedMessageIds: Type.Integer({ minimum: 1, default: 10_000, description: 'handled MessageIds kept to ignore SNS retries and replays (over maxMessageAgeSeconds); past it, older messages are refused as stale' }),
  maxMessageAgeSeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 3_600, description: 'messages whose Timestamp is older are refused (stale); SNS retries an http delivery for at most an hour by default' }),
  requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'a request (headers and body) must arrive within this, else 408 and the connection is closed' }),
  maxConnections: Type.Integer({ minimum: 1, default: 256, description: 'open connections at once; more are closed on accept' }),
}, { additionalProperties: false });

export type SnsHttpOptions = Static<typeof SnsHttpOptionsSchema>;
