/**
 * `module` router: a user's function decides, as ProxyMachine's routing block does. The module
 * (JS, or TS through tsx) exports
 *   route(ctx)               ctx = { data: Buffer (held datagrams, joined), datagrams: Buffer[],
 *                                    client: { address, port }, listener, local, failed: string[] }
 *                            → { remote } | { remote, data } | { remote, data, reply } | { noop: true }
 *                              | { close: true } | { close: bytes } (or a promise of one)
 *   onConnectError(remote, session)?   the backend refused or did not answer in time
 *   onInactivity(remote, session)?     the backend went silent
 * Every call has a time limit; a throw, a rejection or the limit passed fails that session (counted).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Static } from '@sinclair/typebox';
import type { RouteDecision, RoutedSession, Router, RouterContext, RouteRequest } from '../../gateway/plugin-kit.js';
import type { ModuleRouterOptions } from './options.js';

type Callback = (remote: string, session: { client: { address: string; port: number }; listener: string }) => unknown;
const TS_MODULE = /\.[cm]?tsx?$/;

export async function createModuleRouter(options: Static<typeof ModuleRouterOptions>, ctx: RouterContext): Promise<Router> {
  const mod = await importModule(isAbsolute(options.module) ? options.module : resolve(ctx.baseDir, options.module));
  const fn = mod[options.export];
  if (typeof fn !== 'function') {
    throw new Error(`router module ${options.module} exports no function "${options.export}" (exports: ${Object.keys(mod).join(', ') || 'none'}): export it, or set router.export`);
  }
  const limit = options.timeoutMs;
  const stats = { calls: 0, failures: 0, timeouts: 0 };
  const call = <T>(what: string, run: () => T): T | Promise<T> => {
    stats.calls++;
    let r: T;
    try { r = run(); } catch (err) { stats.failures++; throw err; }
    if (!isThenable(r)) return r;
    return withTimeout(r as unknown as Promise<T>, limit, what, stats);
  };
  const callback = (name: string): Router['onConnectError'] => {
    const cb = mod[name] as Callback | undefined;
    if (typeof cb !== 'function') return undefined;
    return (s: RoutedSession) => call(name, () => cb(s.backend.label, { client: s.remote, listener: s.listener }) as RouteDecision | void);
  };
  const onConnectError = callback('onConnectError');
  const onInactivity = callback('onInactivity');
  return {
    kind: 'module',
    route: (req: RouteRequest) => call('route', () => (fn as (c: unknown) => RouteDecision)(requestFor(req))),
    ...(onConnectError ? { onConnectError } : {}),
    ...(onInactivity ? { onInactivity } : {}),
    status: () => ({ kind: 'module', module: options.module, ...stats }),
  };
}

function requestFor(req: RouteRequest) {
  return {
    data: req.data.length === 1 ? req.data[0]! : Buffer.concat(req.data as Buffer[]), datagrams: req.data,
    client: req.remote, listener: req.listener, local: req.local, failed: req.failed.map((t) => t.label),
  };
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (!TS_MODULE.test(file)) return import(url);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url) as Promise<Record<string, unknown>>;
}

function isThenable(v: unknown): boolean {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, stats: { failures: number; timeouts: number }): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { stats.timeouts++; reject(new Error(`router module's ${what}() did not answer within ${ms} ms`)); }, ms);
  });
  return Promise.race([p.catch((err) => { stats.failures++; throw err; }), late]).finally(() => clearTimeout(timer));
}
