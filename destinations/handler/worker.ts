/**
 * Worker-thread side of the handler destination: loads the user's module once, then runs its
 * Lambda-style handler(event, context[, callback]) for each batch the pool posts (invoke.ts).
 * Protocol (structured clone over the worker port):
 *   in:  { id, event }
 *   out: { type: 'ready' } | { type: 'load-error', message }
 *        { type: 'result', id, value } | { type: 'error', id, message }
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LoaderInit } from './module-loader.js';
import { contextFor, invokeHandler, loadHandler, messageOf, type Handler } from './invoke.js';

export type { LambdaLikeContext } from './invoke.js';

export interface WorkerInit {
  readonly module: string;
  readonly exportName: string;
  readonly functionName: string;
  readonly timeoutMs: number;
  readonly loader: LoaderInit;
}

export type WorkerOut =
  | { type: 'ready' }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; message: string };

export interface WorkerIn { id: number; event: unknown }

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: WorkerOut): void => port.postMessage(m);

function reply(id: number, value: unknown): void {
  try {
    post({ type: 'result', id, value });
  } catch (e) {
    post({ type: 'error', id, message: `handler result cannot be serialised: ${messageOf(e)}` });
  }
}

async function main(): Promise<void> {
  let fn: Handler;
  try {
    fn = await loadHandler(init.module, init.exportName, init.loader);
  } catch (e) {
    post({ type: 'load-error', message: messageOf(e) });
    return;
  }
  port.on('message', (m: WorkerIn) => {
    const context = contextFor(init.functionName, `worker-${process.pid}`, Date.now() + init.timeoutMs);
    invokeHandler(fn, m.event, context).then((v) => reply(m.id, v), (e: unknown) => post({ type: 'error', id: m.id, message: messageOf(e) }));
  });
  post({ type: 'ready' });
}

void main();
