/**
 * A small pool of worker threads running one handler module, off the main event loop.
 * One invocation per worker at a time; the rest wait in a FIFO. A worker that exceeds the
 * timeout is terminated and replaced; one that crashes is replaced; the pool keeps serving.
 */
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { WorkerIn, WorkerInit, WorkerOut } from './worker.js';
import { packageRoot } from '../../gateway/plugin-kit.js';

export interface PoolOptions extends Omit<WorkerInit, 'loader'> {
  readonly workers: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/** What the handler destination asks of a way to run handlers: a worker pool, or in-process. */
export interface HandlerRunner {
  readonly stats: PoolStats;
  readonly size: number;
  readonly busy: number;
  readonly waiting: number;
  invoke(event: unknown, signal?: AbortSignal): Promise<InvokeResult>;
  close(): Promise<void>;
}

export type InvokeResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string; readonly retry: boolean };

export interface PoolStats { invocations: number; errors: number; timeouts: number; crashes: number; restarts: number }

interface Job { readonly msg: WorkerIn; readonly resolve: (r: InvokeResult) => void }

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  dead: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

const TS_MODULE = /\.[cm]?tsx?$/;
const RESPAWN_DELAY_MS = 1_000;

/** Production runs dist/…/worker.js; tests run the TypeScript sources, so fall back to worker.ts under tsx. */
export function workerEntry(): { href: string; ts: boolean } {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { href: js.href, ts: false };
  return { href: new URL('./worker.ts', import.meta.url).href, ts: true };
}

/** URLs of tsx's ESM and CommonJS register APIs, used to load TypeScript handlers (and worker.ts in tests). */
export function tsxApi(kind: 'esm' | 'cjs'): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(join(dirname(pkg), kind === 'esm' ? 'dist/esm/api/index.mjs' : 'dist/cjs/api/index.cjs')).href;
}

/**
 * What `udp-gateway` and `udp-gateway/<sub>` mean inside a handler: the files of the running
 * gateway's package exports (package.json), its TypeScript sources when it runs from them (tests).
 */
export function gatewayAliases(fromSources: boolean = workerEntry().ts): Record<string, string> {
  const root = packageRoot();
  const exports = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> }).exports;
  const out: Record<string, string> = {};
  for (const [sub, target] of Object.entries(exports)) {
    const built = join(root, target.default);
    const file = fromSources ? join(root, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')) : built;
    if (existsSync(file)) out[`udp-gateway${sub.slice(1)}`] = file;
  }
  return out;
}

// An eval'd bootstrap so that the tsx loader is registered before the (possibly .ts) entry is imported.
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
const boot = workerData.__boot;
(boot.tsx ? import(boot.tsx).then((m) => m.register()) : Promise.resolve())
  .then(() => import(boot.entry))
  .catch((e) => require('node:worker_threads').parentPort.postMessage({ type: 'load-error', message: String(e && e.message || e) }));`;

export class HandlerPool implements HandlerRunner {
  readonly stats: PoolStats = { invocations: 0, errors: 0, timeouts: 0, crashes: 0, restarts: 0 };
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private readonly respawns = new Set<NodeJS.Timeout>();
  private nextId = 1;
  private closed = false;

  private constructor(private readonly opts: PoolOptions) {}

  /** Start every worker and wait until each has loaded the module; rejects with the load error. */
  static async start(opts: PoolOptions): Promise<HandlerPool> {
    const pool = new HandlerPool(opts);
    const started = Array.from({ length: opts.workers }, () => pool.spawn());
    const results = await Promise.allSettled(started);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await pool.close();
      throw failure.reason;
    }
    return pool;
  }

  get busy(): number { return [...this.slots].filter((s) => s.job).length; }
  get size(): number { return this.slots.size; }
  get waiting(): number { return this.queue.length; }

  invoke(event: unknown, signal?: AbortSignal): Promise<InvokeResult> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'handler pool closed', retry: true });
    if (signal?.aborted) return Promise.resolve({ ok: false, reason: 'aborted before the handler ran', retry: true });
    return new Promise((resolve) => {
      // The signal may outlive many sends (a shutdown signal): remove the listener once the job settles.
      const onAbort = (): void => this.abandon(job);
      const job: Job = {
        msg: { id: this.nextId++, event },
        resolve: (r) => { signal?.removeEventListener('abort', onAbort); resolve(r); },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.respawns) clearTimeout(t);
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, reason: 'handler pool closed', retry: true });
    await Promise.all([...this.slots].map((s) => this.retire(s, 'handler pool closed', true)));
  }

  private abandon(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i < 0) return; // already running: it finishes or times out
    this.queue.splice(i, 1);
    job.resolve({ ok: false, reason: 'aborted before the handler ran', retry: true });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.ready && !slot.dead && !slot.job) this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    this.stats.invocations++;
    slot.timer = setTimeout(() => this.onTimeout(slot), this.opts.timeoutMs);
    slot.worker.postMessage(job.msg);
  }

  private finish(slot: Slot, r: InvokeResult): void {
    const job = slot.job;
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    job?.resolve(r);
  }

  private onTimeout(slot: Slot): void {
    this.stats.timeouts++;
    this.opts.logger.warn({ timeoutMs: this.opts.timeoutMs }, 'handler timed out; replacing its worker');
    void this.retire(slot, 'handler timeout', false).then(() => this.replace());
  }

  /** Terminate a worker; its running job (if any) fails with `reason`. */
  private async retire(slot: Slot, reason: string, retry: boolean): Promise<void> {
    if (slot.dead) return;
    slot.dead = true;
    this.slots.delete(slot);
    this.finish(slot, { ok: false, reason, retry });
    await slot.worker.terminate().catch(() => undefined);
  }

  private onCrash(slot: Slot, err: unknown): void {
    if (slot.dead) return;
    this.stats.crashes++;
    const message = err instanceof Error ? err.message : String(err);
    this.opts.logger.error({ err }, 'handler worker crashed; replacing it');
    void this.retire(slot, `handler worker crashed: ${message}`, false).then(() => this.replace());
  }

  private replace(): void {
    if (this.closed) return;
    this.stats.restarts++;
    this.spawn().catch((err: unknown) => {
      this.opts.logger.error({ err }, 'handler worker could not be restarted; retrying');
      const t = setTimeout(() => { this.respawns.delete(t); this.replace(); }, RESPAWN_DELAY_MS);
      this.respawns.add(t);
    });
  }

  private spawn(): Promise<void> {
    const entry = workerEntry();
    const tsx = entry.ts || TS_MODULE.test(this.opts.module) ? tsxApi('esm') : undefined;
    const init: WorkerInit = {
      module: this.opts.module, exportName: this.opts.exportName,
      functionName: this.opts.functionName, timeoutMs: this.opts.timeoutMs,
      loader: { aliases: gatewayAliases(entry.ts), tsxCjs: tsxApi('cjs') },
    };
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { ...init, __boot: { entry: entry.href, tsx } },
      ...(this.opts.env ? { env: { ...process.env, ...this.opts.env } } : {}),
    });
    const slot: Slot = { worker, ready: false, dead: false };
    this.slots.add(slot);
    return new Promise((resolve, reject) => {
      const fail = (message: string): void => {
        if (slot.ready || slot.dead) return;
        slot.dead = true;
        this.slots.delete(slot);
        void worker.terminate().catch(() => undefined);
        reject(new Error(message));
      };
      worker.on('message', (m: WorkerOut) => {
        if (m.type === 'ready') { slot.ready = true; resolve(); this.pump(); }
        else if (m.type === 'load-error') fail(m.message);
        else this.onResult(slot, m);
      });
      worker.on('error', (err) => (slot.ready ? this.onCrash(slot, err) : fail(err.message)));
      worker.on('exit', (code) => (slot.ready ? this.onCrash(slot, new Error(`worker exited with code ${code}`)) : fail(`worker exited with code ${code} before loading`)));
    });
  }

  private onResult(slot: Slot, m: Extract<WorkerOut, { type: 'result' | 'error' }>): void {
    if (slot.job?.msg.id !== m.id) return; // a late answer after a timeout
    if (m.type === 'error') this.stats.errors++;
    this.finish(slot, m.type === 'result' ? { ok: true, value: m.value } : { ok: false, reason: `handler error: ${m.message}`, retry: false });
    this.pump();
  }
}
