/**
 * One destination's lane of the fan-out: bounded queue → batcher (max packets, max bytes, linger)
 * → in-flight limit → retrying send → replies to egress, final failures to the dead-letter.
 * Nothing here awaits on the enqueue path: a slow destination fills its own queue and drops, counted.
 */
import type { Logger } from 'pino';
import type { BatchResult, Destination } from '../extension/destination.js';
import type { Packet, Reply } from '../packet.js';
import type { Metrics } from '../metrics.js';
import type { CommonDestinationConfig } from '../config/schema.js';
import { DeadLetterError, type DeadLetter } from './dead-letter.js';
import { PacketQueue } from './queue.js';
import { withRetry } from './retry.js';
import { isPromise } from './promise.js';
import { BatchLimits } from './limits.js';

export interface RunnerDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Where replies go (egress by tag). */
  readonly onReplies: (replies: readonly Reply[], destination: string) => void;
  readonly deadLetter?: DeadLetter;
}

export class DestinationRunner {
  /** Label for metrics: listener/destination. */
  readonly id: string;
  private readonly queue: PacketQueue;
  private readonly sender: Destination;
  private readonly maxPackets: number;
  private readonly maxBytes: number;
  private readonly limits: BatchLimits;
  /** Only a destination that declares a packet limit pays for sizing each packet on enqueue. */
  private readonly checksOversize: boolean;
  private readonly abort = new AbortController();
  private readonly inFlightBatches = new Set<Promise<void>>();
  private lingerTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private holding = false;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly m;

  constructor(readonly listener: string, readonly destination: Destination, private readonly cfg: CommonDestinationConfig, private readonly deps: RunnerDeps) {
    this.id = `${listener}/${destination.name}`;
    this.queue = new PacketQueue(cfg.queue.maxPackets);
    this.limits = new BatchLimits(destination.limits, cfg.batch);
    this.maxPackets = this.limits.maxPackets;
    this.maxBytes = this.limits.maxBytes;
    this.checksOversize = destination.limits?.maxPacketBytes !== undefined || destination.limits?.maxBatchBytes !== undefined;
    const m = deps.metrics, d = { destination: this.id };
    this.m = {
      queued: m.queued.labels(d), inFlight: m.inFlight.labels(d), batches: m.batches.hot(d), delivered: m.delivered.hot(d),
      failed: m.failed.labels(d), retried: m.retried.labels(d), deadLettered: m.deadLettered.labels(d), replies: m.replies.labels(d),
      latency: m.latency.labels(d), queueFull: m.drops.labels({ where: this.id, reason: 'queue-full' }),
      oversize: m.drops.labels({ where: this.id, reason: 'oversize' }),
    };
    deps.metrics.readOnScrape(() => { this.m.queued.set(this.queue.length); this.m.inFlight.set(this.inFlightBatches.size); });
    this.sender = withRetry(destination, cfg.retry, {
      onRetry: (n) => this.m.retried.inc(n),
      onAttempt: () => this.m.batches.inc(),
    });
  }

  get queued(): number { return this.queue.length; }
  get inFlight(): number { return this.inFlightBatches.size; }

  /** Hot path. Returns false when the packet was dropped (counted). */
  enqueue(p: Packet): boolean {
    if (this.draining) return false;
    if (this.checksOversize && this.limits.oversize(this.limits.size(p))) {
      this.m.oversize.inc();
      return false;
    }
    if (!this.queue.push(p)) {
      this.m.queueFull.inc();
      return false;
    }
    this.schedule();
    return true;
  }

  private schedule(): void {
    if (this.inFlightBatches.size >= this.cfg.inFlight) return; // a finishing batch pumps again
    if (this.queue.length >= this.maxPackets || this.queue.bytes >= this.maxBytes || this.draining) {
      this.pump();
    } else if (this.cfg.batch.lingerMs === 0) {
      if (this.holding) return; // flush() at the end of the receive batch sends
      this.immediate ??= setImmediate(() => { this.immediate = undefined; this.pump(); });
    } else {
      this.lingerTimer ??= setTimeout(() => { this.lingerTimer = undefined; this.pump(); }, this.cfg.batch.lingerMs);
    }
  }

  /**
   * A receive batch begins: the listener enqueues its packets, then calls flush(). Meanwhile a
   * lingerMs-0 runner schedules nothing (a setImmediate per batch, set and cleared, is two calls
   * into Node's C++ and an allocation).
   */
  hold(): void { this.holding = true; }

  /** End of a receive batch: with lingerMs 0 the queued packets go out now, in this call. */
  flush(): void {
    this.holding = false;
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = undefined; }
    if (this.queue.length > 0 && this.cfg.batch.lingerMs === 0) this.pump();
  }

  private pump(): void {
    if (this.lingerTimer) { clearTimeout(this.lingerTimer); this.lingerTimer = undefined; }
    while (this.queue.length > 0 && this.inFlightBatches.size < this.cfg.inFlight) {
      this.start(this.takeBatch());
      // Fewer than a full batch left and not draining: let the linger collect more.
      if (!this.draining && this.queue.length < this.maxPackets && this.queue.bytes < this.maxBytes) break;
    }
    if (this.queue.length > 0 && this.inFlightBatches.size < this.cfg.inFlight) this.schedule();
  }

  /** Sends one batch. A destination that answers synchronously is finished here, with no promise. */
  private start(batch: Packet[]): void {
    const r = this.sender.sendBatch(batch, this.abort.signal); // the retry wrapper never throws
    if (isPromise(r)) { this.track(r.then((v) => this.finishSafely(batch, v))); return; }
    const failing = this.finishSafely(batch, r);
    if (failing) this.track(failing);
    else if (this.queue.length === 0 && this.inFlightBatches.size === 0) this.notifyIdle();
  }

  /** finish(), with a throw (e.g. from the reply path) logged rather than lost or left unhandled. */
  private finishSafely(batch: Packet[], r: BatchResult): Promise<void> | undefined {
    try {
      return this.finish(batch, r);
    } catch (err) {
      this.deps.logger.error({ destination: this.id, err }, 'finishing a batch failed');
      return undefined;
    }
  }

  /** Counts a batch in flight until `p` settles, then pumps again or reports idle. */
  private track(p: Promise<void>): void {
    const run = p.finally(() => {
      this.inFlightBatches.delete(run);
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlightBatches.size === 0) this.notifyIdle();
    });
    this.inFlightBatches.add(run);
  }

  /** Take up to maxPackets / maxBytes (by the destination's own size measure); at least one packet. */
  private takeBatch(): Packet[] {
    const batch: Packet[] = [];
    let bytes = 0;
    for (let p = this.queue.peek(); p; p = this.queue.peek()) {
      const s = this.limits.size(p);
      if (!this.limits.fits(batch.length, bytes, s)) break;
      batch.push(this.queue.shift()!);
      bytes += s;
    }
    return batch;
  }

  /** Outcomes of a sent batch: metrics, replies; a promise only when packets failed finally. */
  private finish(batch: Packet[], r: BatchResult): Promise<void> | undefined {
    const now = Date.now();
    let failedPackets: Packet[] | undefined; // allocated only when something failed
    let reasons: Map<string, number> | undefined;
    let delivered = 0;
    const outcomes = r.outcomes;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      if (o.status === 'delivered') {
        delivered++;
        this.m.latency.observe((now - batch[i]!.receivedAt) / 1000);
      } else {
        (failedPackets ??= []).push(batch[i]!);
        reasons ??= new Map();
        reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
      }
    }
    if (delivered) this.m.delivered.inc(delivered);
    if (r.replies?.length) {
      this.m.replies.inc(r.replies.length);
      this.deps.onReplies(r.replies, this.id);
    }
    return failedPackets ? this.failFinally(failedPackets, [...reasons!].map(([k, n]) => `${k} (x${n})`).join('; ')) : undefined;
  }

  /** Final failure: one structured delivery-error line, and the dead-letter when configured. */
  private async failFinally(packets: Packet[], reason: string): Promise<void> {
    this.m.failed.inc(packets.length);
    this.deps.logger.error({ packets: packets.length, reason, deadLetter: !!this.deps.deadLetter }, 'delivery failed');
    await this.deadLetter(packets, reason);
  }

  /** To the dead-letter; what it could not take is counted as 'dead-letter-failed' drops. */
  private async deadLetter(packets: Packet[], reason: string): Promise<void> {
    if (!this.deps.deadLetter) return;
    try {
      await this.deps.deadLetter.write(packets, reason);
      this.m.deadLettered.inc(packets.length);
    } catch (err) {
      const lost = err instanceof DeadLetterError ? err.failed : packets.length;
      if (packets.length > lost) this.m.deadLettered.inc(packets.length - lost);
      this.deps.logger.error({ packets: lost, err }, 'dead-letter write failed; packets lost');
      this.deps.metrics.drops.inc({ where: this.id, reason: 'dead-letter-failed' }, lost);
    }
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    w.forEach((f) => f());
  }

  /**
   * Stop accepting, send everything queued (linger ignored) and wait for in-flight batches.
   * Past `deadlineMs` in-flight sends are aborted and what is still queued is failed finally
   * (dead-lettered when configured, else logged and counted as 'shutdown' drops).
   */
  async drain(deadlineMs: number = Infinity): Promise<void> {
    this.draining = true;
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = undefined; }
    this.pump();
    const idle = new Promise<void>((resolve) => {
      if (this.queue.length === 0 && this.inFlightBatches.size === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    if (deadlineMs === Infinity) return idle;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([idle.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), deadlineMs); })]);
    clearTimeout(timer);
    if (!timedOut) return;
    const left = this.queue.takeAll();
    this.abort.abort();
    if (left.length) {
      // Never sent, so not 'failed': dead-lettered when there is a dead-letter, else dropped (counted once).
      const reason = 'shutdown deadline passed before delivery';
      this.deps.logger.error({ packets: left.length, reason, deadLetter: !!this.deps.deadLetter }, 'delivery failed');
      if (this.deps.deadLetter) await this.deadLetter(left, reason);
      else this.deps.metrics.drops.inc({ where: this.id, reason: 'shutdown' }, left.length);
    }
    await Promise.allSettled([...this.inFlightBatches]);
  }

  status(): Record<string, unknown> {
    return {
      listener: this.listener, name: this.destination.name, kind: this.destination.kind,
      queued: this.queue.length, queueCapacity: this.queue.capacity, inFlight: this.inFlightBatches.size,
      ...(this.destination.status ? { details: this.destination.status() } : {}),
    };
  }
}
