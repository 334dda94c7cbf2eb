/** Options of the `http` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type } from '@sinclair/typebox';
import type { ConfigProblem } from '../../gateway/plugin-kit.js';

export const HttpOptionsSchema = Type.Object({
  url: Type.String({ pattern: '^https?://', description: 'http:// or https:// endpoint that receives the POST' }),
  timeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  maxBatchPackets: Type.Integer({ minimum: 1, default: 100 }),
}, { additionalProperties: false });

/** The URL parses (the schema only checks its scheme). */
export function checkHttpOptions(options: { readonly url: string }): ConfigProblem[] {
  return URL.canParse(options.url) ? [] : [{ path: '/url', message: `"${options.url}" is not a valid URL: write it as http(s)://host[:port]/path` }];
}
