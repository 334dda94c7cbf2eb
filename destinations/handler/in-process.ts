/**
 * `isolation: in-process`: the handler runs on the gateway's own thread, for handlers trusted not
 * to need isolation. No worker-thread hop per batch (no structured clone of the event and the
 * answer, no thread wake-up), but no protection either: a crash (an uncaught exception thrown
 * later, from a timer) ends the gateway, a synchronous endless loop stops it (the timeout cannot
 * interrupt synchronous code: it fails the batch only once the handler yields), globals and
 * `process.env` are the gateway's (so the `env` option is refused), and there is no separate memory limit. Same event, context and
 * replies as in a worker; at most `workers` invocations run at once, the rest wait in a FIFO.
 */
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { contextFor, invokeHandler, loadHandler, messageOf, type Handler } from './invoke.js';
import { gatewayAliases, tsxApi, type HandlerRunner, type InvokeResult, type PoolStats } from './pool.js';

export interface InProcessOptions {
  readonly module: string;
  readonly exportName: string;
  readonly functionName: string;
  readonly timeoutMs: number;
  /** Invocations at once (the `workers` option). */
  readonly concurrency: number;
  readonly logger: Logger;
}

const TS_MODULE = /\.[cm]?tsx?$/;
let tsxRegistered = false;

interface Job { readonly event: unknown; readonly resolve: (r: InvokeResult) => void; readonly signal: AbortSignal | undefined }

export class InProcessHandler implements HandlerRunner {
  readonly stats: PoolStats = { invocations: 0, errors: 0, timeouts: 0, crashes: 0, restarts: 0 };
  private readonly queue: Job[] = [];
  private running = 0;
  private closed = false;

  private constructor(private readonly fn: Handler, private readonly opts: InProcessOptions) {}

  static async start(opts: InProcessOptions): Promise<InProcessHandler> {
    if (TS_MODULE.test(opts.module) && !tsxRegistered) {
      (await import(tsxApi('esm')) as { register(): void }).register();
      tsxRegistered = true;
    }
    const fn = await loadHandler(opts.module, opts.exportName, { aliases: gatewayAliases(), tsxCjs: tsxApi('cjs') });
    opts.logger.warn({ module: pathToFileURL(opts.module).href }, 'handler runs in-process (isolation: in-process): a crash or a blocking loop in it stops the gateway');
    return new InProcessHandler(fn, opts);
  }

  get size(): number { return this.opts.concurrency; }
  get busy(): number { return this.running; }
  get waiting(): number { return this.queue.length; }

  invoke(event: unknown, signal?: AbortSignal): Promise<InvokeResult> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'handler pool closed', retry: true });
    if (signal?.aborted) return Promise.resolve({ ok: false, reason: 'aborted before the handler ran', retry: true });
    if (this.running < this.opts.concurrency) return this.run(event);
    return new Promise((resolve) => {
      const job: Job = { event, signal, resolve: (r) => { signal?.removeEventListener('abort', onAbort); resolve(r); } };
      const onAbort = (): void => {
        const i = this.queue.indexOf(job);
        if (i >= 0) { this.queue.splice(i, 1); job.resolve({ ok: false, reason: 'aborted before the handler ran', retry: true }); }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve({ ok: false, reason: 'handler pool closed', retry: true });
  }

  /** One invocation, failed with 'handler timeout' if it has not answered within timeoutMs. */
  private run(event: unknown): Promise<InvokeResult> {
    this.running++;
    this.stats.invocations++;
    const { timeoutMs, functionName } = this.opts;
    const context = contextFor(functionName, `in-process-${process.pid}`, Date.now() + timeoutMs);
    return new Promise<InvokeResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (r: InvokeResult): void => {
        if (timer === undefined) return; // already settled (a late answer after the timeout)
        clearTimeout(timer);
        timer = undefined;
        resolve(r);
      };
      timer = setTimeout(() => {
        this.stats.timeouts++;
        this.opts.logger.warn({ timeoutMs }, 'handler timed out (in-process: it may still be running)');
        settle({ ok: false, reason: 'handler timeout', retry: false });
      }, timeoutMs);
      invokeHandler(this.fn, event, context).then(
        (value) => settle({ ok: true, value }),
        (e: unknown) => { this.stats.errors++; settle({ ok: false, reason: `handler error: ${messageOf(e)}`, retry: false }); },
      );
    }).finally(() => this.next());
  }

  private next(): void {
    this.running--;
    const job = this.queue.shift();
    if (job) void this.run(job.event).then(job.resolve);
  }
}
