/** Options of the `http` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type } from '@sinclair/typebox';

export const HttpOptionsSchema = Type.Object({
  url: Type.String({ pattern: '^https?://', description: 'http:// or https:// endpoint that receives the POST' }),
  timeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  maxBatchPackets: Type.Integer({ minimum: 1, default: 100 }),
}, { additionalProperties: false });
