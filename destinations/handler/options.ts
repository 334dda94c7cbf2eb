/** Options of the `handler` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { ConfigProblem } from '../../gateway/plugin-kit.js';

export const HandlerOptionsSchema = Type.Object({
  module: Type.String({ minLength: 1, description: 'path of the JS/TS module, relative to the config file' }),
  export: Type.String({ minLength: 1, default: 'handler' }),
  workers: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'worker threads; in-process: invocations at once' }),
  isolation: Type.Union([Type.Literal('worker'), Type.Literal('in-process')], {
    default: 'worker',
    description: 'worker: each invocation in a worker thread (a crash, an endless loop or a leak stays there); ' +
      'in-process: on the gateway\'s own thread, without the thread hop per batch, for trusted handlers only (a crash or a blocking loop stops the gateway)',
  }),
  timeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
  maxBatchPackets: Type.Integer({ minimum: 1, default: 100 }),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
}, { additionalProperties: false });

export const IN_PROCESS_ENV = '`env` needs isolation: worker (in-process the handler shares the gateway\'s process.env: set the variables in the gateway\'s environment)';

/** The module file exists (relative paths against the config file's folder); no `env` in-process. */
export function checkHandlerOptions(options: { readonly module: string; readonly isolation?: string; readonly env?: unknown }, ctx: { readonly baseDir: string }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (options.isolation === 'in-process' && options.env) problems.push({ path: '/env', message: IN_PROCESS_ENV });
  const file = resolve(ctx.baseDir, options.module);
  let isFile = false;
  try { isFile = statSync(file).isFile(); } catch { /* missing */ }
  if (!isFile) problems.push({ path: '/module', message: `handler module ${file} does not exist or is not a file: fix the path (relative paths are resolved against ${ctx.baseDir})` });
  return problems;
}
