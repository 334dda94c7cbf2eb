/**
 * Running a Lambda-style handler(event, context[, callback]): loading the user's module, the
 * context object, and one invocation (async/promise-returning handlers, plain return values,
 * callback style). Shared by the worker thread (worker.ts) and the in-process mode (in-process.ts),
 * so both keep one contract.
 */
import { randomUUID } from 'node:crypto';
import { importHandlerModule, type LoaderInit } from './module-loader.js';

export type Callback = (err?: unknown, value?: unknown) => void;
export type Handler = (event: unknown, context: LambdaLikeContext, callback?: Callback) => unknown;

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

export const messageOf = (e: unknown): string =>
  e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);

/** The handler function of `module` (its export `exportName`, or that key of its default export). */
export async function loadHandler(module: string, exportName: string, loader: LoaderInit): Promise<Handler> {
  const mod = await importHandlerModule(module, loader);
  const fromDefault = (mod.default as Record<string, unknown> | undefined)?.[exportName];
  const fn = mod[exportName] ?? fromDefault;
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).join(', ') || 'none';
    throw new Error(`it has no function export "${exportName}" (exports: ${names}); ` +
      `export one, e.g. \`export const ${exportName} = async (event, context) => ({ Replies: [] })\`, or set "export" in the config`);
  }
  return fn as Handler;
}

export function contextFor(functionName: string, logStreamName: string, deadline: number): LambdaLikeContext {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/udp-gateway/${functionName}`,
    logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** One invocation: resolves with the handler's answer, rejects with what it threw or rejected. */
export function invokeHandler(fn: Handler, event: unknown, context: LambdaLikeContext): Promise<unknown> {
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
