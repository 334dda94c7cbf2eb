/** Options of the `handler` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type } from '@sinclair/typebox';

export const HandlerOptionsSchema = Type.Object({
  module: Type.String({ minLength: 1, description: 'path of the JS/TS module, relative to the config file' }),
  export: Type.String({ minLength: 1, default: 'handler' }),
  workers: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  timeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
  maxBatchPackets: Type.Integer({ minimum: 1, default: 100 }),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
}, { additionalProperties: false });
