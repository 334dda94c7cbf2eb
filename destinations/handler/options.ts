/** Options of the `handler` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { ConfigProblem } from '../../gateway/plugin-kit.js';

export const HandlerOptionsSchema = Type.Object({
  module: Type.String({ minLength: 1, description: 'path of the JS/TS module, relative to the config file' }),
  export: Type.String({ minLength: 1, default: 'handler' }),
  workers: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  timeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
  maxBatchPackets: Type.Integer({ minimum: 1, default: 100 }),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
}, { additionalProperties: false });

/** The module file exists (relative paths against the config file's folder). */
export function checkHandlerOptions(options: { readonly module: string }, ctx: { readonly baseDir: string }): ConfigProblem[] {
  const file = resolve(ctx.baseDir, options.module);
  let isFile = false;
  try { isFile = statSync(file).isFile(); } catch { /* missing */ }
  if (isFile) return [];
  return [{ path: '/module', message: `handler module ${file} does not exist or is not a file: fix the path (relative paths are resolved against ${ctx.baseDir})` }];
}
