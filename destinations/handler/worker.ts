/**
 * Worker-thread side of the handler destination: loads the user's module once, then runs its
 * Lambda-style handler(event, context[, callback]) for each batch the pool posts.
 * Protocol (structured clone over the worker port):
 *   in:  { id, event }
 *   out: { type: 'ready' } | { type: 'load-error', message }
 *        { type: 'result', id, value } | { type: 'error', id, message }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { importHandlerModule, type LoaderInit } from './module-loader.js';

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

type Callback = (err?: unknown, value?: unknown) => void;
type Handler = (event: unknown, context: LambdaLikeContext, callback?: Callback) => unknown;

/** The subset of the AWS Lambda context object that handlers commonly read. */
export interface LambdaLikeContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: WorkerOut): void => port.postMessage(m);
const messageOf = (e: unknown): string =>
  e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);

async function load(): Promise<Handler> {
  const mod = await importHandlerModule(init.module, init.loader);
  const fromDefault = (mod.default as Record<string, unknown> | undefined)?.[init.exportName];
  const fn = mod[init.exportName] ?? fromDefault;
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).join(', ') || 'none';
    throw new Error(`it has no function export "${init.exportName}" (exports: ${names}); ` +
      `export one, e.g. \`export const ${init.exportName} = async (event, context) => ({ Replies: [] })\`, or set "export" in the config`);
  }
  return fn as Handler;
}

function contextFor(deadline: number): LambdaLikeContext {
  const name = init.functionName;
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/udp-gateway/${name}`,
    logStreamName: `worker-${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Run one invocation: async/promise-returning handlers, plain return values, and callback style. */
function invoke(fn: Handler, event: unknown): Promise<unknown> {
  const context = contextFor(Date.now() + init.timeoutMs);
  return new Promise((resolve, reject) => {
    let settled = false;
    const done: Callback = (err, value) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(value);
    };
    try {
      const r = fn.length >= 3 ? fn(event, context, done) : fn(event, context);
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
        (r as PromiseLike<unknown>).then((v) => done(null, v), (e: unknown) => done(e ?? new Error('handler rejected')));
      } else if (fn.length < 3) done(null, r);
    } catch (e) {
      done(e);
    }
  });
}

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
    fn = await load();
  } catch (e) {
    post({ type: 'load-error', message: messageOf(e) });
    return;
  }
  port.on('message', (m: WorkerIn) => {
    invoke(fn, m.event).then((v) => reply(m.id, v), (e: unknown) => post({ type: 'error', id: m.id, message: messageOf(e) }));
  });
  post({ type: 'ready' });
}

void main();
