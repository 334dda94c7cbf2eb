/**
 * `handler` destination: runs a Lambda-style handler(event, context) from a local JS or TS module
 * in a small pool of worker threads. The event is {"Messages":[…]}, the answer {"Replies":[…]}
 * (gateway/event.ts), the same contract as the hosted Proxylity UDP Gateway, so handlers port unchanged.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  allOutcomes, delivered, failed, retryable,
  type BatchResult, type Destination, type DestinationContext,
} from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { toEvent } from '../../gateway/plugin-kit.js';
import { GatewayError } from '../../gateway/plugin-kit.js';
import { HandlerPool, type HandlerRunner } from './pool.js';
import { IN_PROCESS_ENV } from './options.js';
import { InProcessHandler } from './in-process.js';
import { repliesFrom, type ReplyStats } from '../../gateway/plugin-kit.js';

export interface HandlerOptions {
  readonly module: string;
  readonly export?: string;
  readonly workers?: number;
  /** `worker` (default): worker threads; `in-process`: the gateway's own thread (trusted handlers). */
  readonly isolation?: 'worker' | 'in-process';
  readonly timeoutMs?: number;
  readonly maxBatchPackets?: number;
  readonly env?: Readonly<Record<string, string>>;
}

function moduleNotFound(name: string, path: string, baseDir: string): GatewayError {
  return new GatewayError('UGW_ERR_HANDLER_LOAD',
    `destination "${name}": handler module ${path} does not exist or is not a file; ` +
    `fix "module" in the config (relative paths are resolved against ${baseDir})`);
}

export async function createHandlerDestination(name: string, options: HandlerOptions, ctx: DestinationContext): Promise<Destination> {
  const module = resolve(ctx.baseDir, options.module);
  if (!existsSync(module) || !statSync(module).isFile()) throw moduleNotFound(name, module, ctx.baseDir);
  const logger = ctx.logger.child({ kind: 'handler' });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const isolation = options.isolation ?? 'worker';
  if (isolation === 'in-process' && options.env) throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${name}": ${IN_PROCESS_ENV}`);
  let pool: HandlerRunner;
  try {
    const common = { module, exportName: options.export ?? 'handler', functionName: name, timeoutMs, logger };
    pool = isolation === 'in-process'
      ? await InProcessHandler.start({ ...common, concurrency: options.workers ?? 2 })
      : await HandlerPool.start({ ...common, workers: options.workers ?? 2, env: options.env });
  } catch (err) {
    throw new GatewayError('UGW_ERR_HANDLER_LOAD',
      `destination "${name}": cannot load handler module ${module}: ${(err as Error).message}`, { cause: err });
  }
  const stats: ReplyStats = { repliesRejected: 0 };

  async function sendBatch(batch: readonly Packet[], signal: AbortSignal): Promise<BatchResult> {
    if (batch.length === 0) return { outcomes: [] };
    const r = await pool.invoke(toEvent(batch), signal);
    if (!r.ok) return { outcomes: allOutcomes(batch.length, r.retry ? retryable(r.reason) : failed(r.reason)) };
    return { outcomes: allOutcomes(batch.length, delivered), replies: repliesFrom(r.value, batch, stats, logger) };
  }

  return {
    kind: 'handler',
    name,
    limits: { maxBatchPackets: options.maxBatchPackets ?? 100 },
    sendBatch,
    close: () => pool.close(),
    status: () => ({ module, isolation, workers: pool.size, busy: pool.busy, waiting: pool.waiting, ...pool.stats, ...stats }),
  };
}

export { HandlerOptionsSchema } from './options.js';
