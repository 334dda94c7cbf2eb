/**
 * One destination's lane of the fan-out: bounded queue → batcher (max packets, max bytes, linger)
 * → in-flight limit → retrying send → replies to egress, final failures to the dead-letter.
 * Nothing here awaits on the enqueue path: a slow destination fills its own queue and drops, counted.
 */
import type { Logger } from 'pino';
import type { BatchResult, Destination } from '../extension/destination.js';
import type { Packet, Reply } from '../packet.js';
import type { CounterChild, Metrics } from '../metrics.js';
import type { CommonDestinationConfig } from '../config/schema.js';
import { writeCounted, type DeadLetter } from './dead-letter.js';
import { PacketQueue } from './queue.js';
import { sleep, withRetry } from './retry.js';
import { isPromise } from './promise.js';
import { BatchLimits } from './limits.js';
import type { DiskBuffer } from './disk-buffer.js';

export interface RunnerDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Where replies go (egress by tag). */
  readonly onReplies: (replies: readonly Reply[], destination: string) => void;
  readonly deadLetter?: DeadLetter;
  /** The destination's disk buffer (buffer.disk): the queue's overflow during outages. */
  readonly buffer?: DiskBuffer;
}

export class DestinationRunner {
  /** Label for metrics: listener/destination. */
  readonly id: string;
  readonly direct = true; // every packet enqueued is offered to the destination (FanoutLane.direct)
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
  private clock: number | undefined; // within flush(now): the receive time, for batches finished in the call
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly m;
  // Disk buffer (absent unless configured: the hot path then checks one boolean, `spilling`).
  private readonly buffer: DiskBuffer | undefined;
  /** New packets go to the disk buffer (it holds newer packets than the memory queue). */
  private spilling = false;
  /** The destination refused a batch after its retries: the disk lane probes it. */
  private failing = false;
  private diskLane: Promise<void> | undefined;
  /** Packets the disk buffer could not take, on their way to the dead-letter. */
  private overflow: Packet[] = [];
  private readonly bm: { buffered: CounterChild; bufferFull: CounterChild } | undefined;
  /** Batches refused after their retries, by send order, until no batch is in flight (then to disk, in order). */
  private held: { seq: number; packets: Packet[] }[] = [];
  private batchSeq = 0;

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
      oversize: m.drops.labels({ where: this.id, reason: 'oversize' }), sessions: destination.sessions && m.sessions.labels(d),
    };
    this.buffer = deps.buffer;
    if (this.buffer) {
      const bytes = m.bufferBytes.labels(d);
      this.bm = { buffered: m.buffered.hot(d), bufferFull: m.drops.labels({ where: this.id, reason: 'buffer-full' }) };
      deps.metrics.readOnScrape(() => bytes.set(this.buffer!.bytes), this);
      this.buffer.onWriteError = (err, records) => {
        deps.logger.error({ err, packets: records }, 'disk buffer write failed; packets lost');
        m.drops.inc({ where: this.id, reason: 'buffer-write-failed' }, records);
      };
      this.spilling = !this.buffer.empty; // left by the last run: deliver it first
      if (this.spilling) queueMicrotask(() => this.startDiskLane());
    }
    deps.metrics.readOnScrape(() => { this.m.queued.set(this.queue.length); this.m.inFlight.set(this.inFlightBatches.size); this.m.sessions?.set(destination.sessions!.count?.() ?? destination.sessions!.list().length); }, this);
    this.sender = withRetry(destination, cfg.retry, {
      onRetry: (n) => this.m.retried.inc(n),
      onAttempt: () => this.m.batches.inc(),
    });
  }

  get queued(): number { return this.queue.length; }
  get inFlight(): number { return this.inFlightBatches.size; }
  get queueCapacity(): number { return this.queue.capacity; } // for the status page, without a destination's status()

  /** Hot path. Returns false when the packet was dropped (counted). */
  enqueue(p: Packet): boolean {
    if (this.draining) return false;
    if (this.checksOversize && this.limits.oversize(this.limits.size(p))) {
      this.m.oversize.inc();
      return false;
    }
    if (this.spilling) return this.spill(p);
    if (!this.queue.push(p)) {
      if (this.buffer) { this.spilling = true; return this.spill(p); }
      this.m.queueFull.inc();
      return false;
    }
    this.schedule();
    return true;
  }

  /** To the disk buffer; past its limits, to the dead-letter (or a counted buffer-full drop). */
  private spill(p: Packet): boolean {
    const m = this.bm!;
    if (this.buffer!.append(p)) {
      m.buffered.inc();
      if (this.inFlightBatches.size === 0 && this.queue.length === 0) this.startDiskLane();
      return true;
    }
    if (!this.deps.deadLetter) { m.bufferFull.inc(); return false; }
    if (this.overflow.push(p) === 1) setImmediate(() => {
      const packets = this.overflow;
      this.overflow = [];
      this.track(this.failFinally(packets, 'disk buffer full (buffer.disk.maxBytes)'));
    });
    return true;
  }

  /**
   * The disk lane: once the memory lane is idle, sends what is on disk, oldest first, one batch at a
   * time, and moves the cursor only after each batch was delivered (or finally failed and dead-
   * lettered). While the destination keeps refusing, the same batch is probed again every
   * retry.maxDelayMs: nothing is dead-lettered for an outage, however long, within the buffer's limits.
   */
  private startDiskLane(): void {
    if (this.diskLane || !this.buffer || this.draining) return;
    this.diskLane = this.runDiskLane().catch((err: unknown) => {
      this.deps.logger.error({ err }, 'disk buffer lane stopped; it resumes with the next packet');
    }).finally(() => {
      this.diskLane = undefined;
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlightBatches.size === 0) this.notifyIdle();
    });
  }

  private async runDiskLane(): Promise<void> {
    const buffer = this.buffer!;
    await this.flushHeld();
    while (!this.draining) {
      let bytes = 0;
      const batch = await buffer.read(this.maxPackets, (n, p) => { const s = this.limits.size(p); if (!this.limits.fits(n, bytes, s)) return false; bytes += s; return true; });
      if (batch.length === 0) {
        if (buffer.empty) { this.spilling = false; this.failing = false; return; }
        await sleep(10, this.abort.signal); // records on their way to disk
        continue;
      }
      let left: Packet[] = batch;
      for (;;) {
        const r = await this.sender.sendBatch(left, this.abort.signal);
        const retry = this.finish(left, r, 'disk');
        if (retry.length === 0) break;
        if (this.draining || this.abort.signal.aborted) return; // stays on disk, uncommitted
        this.failing = true;
        await sleep(this.cfg.retry.maxDelayMs, this.abort.signal);
        // Stryker disable next-line LogicalOperator: equivalent, during this sleep the lane is failing, so a drain aborts at once (and the deadline's abort comes only while draining): here draining and aborted go together
        if (this.draining || this.abort.signal.aborted) return;
        left = retry;
      }
      this.failing = false;
      await buffer.commit();
    }
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
  flush(now?: number): void {
    this.holding = false;
    // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, a setImmediate left pending only pump()s in this same turn, as a fresh one would; clearing it saves a wake-up
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = undefined; }
    if (this.queue.length === 0 || this.cfg.batch.lingerMs !== 0) return;
    this.clock = now; // one Date.now() per wake-up, not two
    try { this.pump(); } finally { this.clock = undefined; }
  }

  private pump(): void {
    if (this.lingerTimer) { clearTimeout(this.lingerTimer); this.lingerTimer = undefined; }
    if (this.failing) return; // the disk lane probes the destination
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
    const seq = ++this.batchSeq;
    if (isPromise(r)) { this.track(r.then((v) => this.finishSafely(batch, v, seq))); return; }
    const failing = this.finishSafely(batch, r, seq);
    if (failing) this.track(failing);
    else if (this.queue.length === 0 && this.inFlightBatches.size === 0) {
      if (this.spilling && !this.draining) this.startDiskLane();
      else if (!this.diskLane) this.notifyIdle();
    }
  }

  /** finish(), with a throw (e.g. from the reply path) logged rather than lost or left unhandled. */
  private finishSafely(batch: Packet[], r: BatchResult, seq: number): Promise<void> | undefined {
    try {
      return this.finish(batch, r, seq);
    } catch (err) {
      this.deps.logger.error({ destination: this.id, err }, 'finishing a batch failed');
      return undefined;
    }
  }

  /** Counts a batch in flight until `p` settles, then pumps again or reports idle. */
  private track(p: Promise<void>): void {
    const run = p.finally(() => {
      this.inFlightBatches.delete(run);
      if (this.queue.length > 0 && !this.failing) { this.schedule(); return; }
      if (this.inFlightBatches.size > 0) return;
      if (this.spilling && !this.draining) this.startDiskLane();
      else if (!this.diskLane) this.notifyIdle();
    });
    this.inFlightBatches.add(run);
  }

  /** Take up to maxPackets / maxBytes (by the destination's own size measure); at least one packet. */
  private takeBatch(): Packet[] {
    const q = this.queue; // usually all of it fits (sizes are the lengths the queue sums): one array, no growth
    if (q.length <= this.maxPackets && q.bytes <= this.maxBytes && !this.destination.limits?.packetBytes) return q.take(q.length);
    const batch: Packet[] = [];
    let bytes = 0;
    for (let p = q.peek(); p; p = q.peek()) {
      const s = this.limits.size(p);
      if (!this.limits.fits(batch.length, bytes, s)) break;
      batch.push(q.shift()!);
      bytes += s;
    }
    return batch;
  }

  /** Outcomes of a sent batch: metrics, replies; a promise only when packets failed finally. */
  private finish(batch: Packet[], r: BatchResult, seq: number): Promise<void> | undefined;
  /** The disk lane's (seq 'disk'): packets still retryable after the retries are returned, not failed. */
  private finish(batch: Packet[], r: BatchResult, seq: 'disk'): Packet[];
  private finish(batch: Packet[], r: BatchResult, seq: number | 'disk'): Promise<void> | undefined | Packet[] {
    const now = this.clock ?? Date.now();
    let failedPackets: Packet[] | undefined; // allocated only when something failed
    let reasons: Map<string, number> | undefined;
    let held: Packet[] | undefined; // with a disk buffer: retryable after the retries (an outage)
    let delivered = 0;
    const outcomes = r.outcomes;
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      if (o.status === 'delivered') {
        delivered++;
        this.m.latency.observe((now - batch[i]!.receivedAt) / 1000);
      } else if (o.status === 'retryable' && this.buffer) {
        (held ??= []).push(batch[i]!);
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
    const failing = failedPackets ? this.failFinally(failedPackets, [...reasons!].map(([k, n]) => `${k} (x${n})`).join('; ')) : undefined;
    if (seq === 'disk') { if (failing) this.track(failing); return held ?? []; }
    if (held) {
      // An outage: stop sending from memory; new packets go to disk; once nothing is in flight the
      // held batches (in send order) and the queue go to the front of the disk buffer (flushHeld).
      this.failing = true;
      this.spilling = true;
      this.held.push({ seq, packets: held });
    }
    return failing;
  }

  /** Held batches, in send order, then the memory queue, to the front of the disk buffer. */
  private async flushHeld(): Promise<void> {
    if (this.held.length === 0 && (this.queue.length === 0 || !this.spilling)) return;
    const all = [...this.held.sort((a, b) => a.seq - b.seq).flatMap((h) => h.packets), ...this.queue.takeAll()];
    this.held = [];
    let kept = false;
    try { kept = await this.buffer!.prepend(all); } catch (err) { this.deps.logger.error({ err }, 'disk buffer write failed'); }
    if (kept) this.bm!.buffered.inc(all.length);
    else await this.failFinally(all, 'disk buffer full (buffer.disk.maxBytes) or not writable');
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
    await writeCounted(this.deps.deadLetter, packets, reason, {
      written: this.m.deadLettered, lost: { inc: (n) => this.deps.metrics.drops.inc({ where: this.id, reason: 'dead-letter-failed' }, n) },
    }, this.deps.logger);
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
    await this.drainMemory(deadlineMs);
    if (this.buffer) {
      await this.flushHeld(); // batches refused during the drain, and a queue left while failing
      // The disk lane stopped at its next step (what it held stays on disk, uncommitted); an
      // in-flight send of it was aborted at the deadline. What is on disk waits for the next start.
      const lane = this.diskLane;
      if (lane) {
        if (this.failing) this.abort.abort(); // waiting to probe a destination that is down: stop now
        else if (deadlineMs !== Infinity) setTimeout(() => this.abort.abort(), deadlineMs).unref();
        await lane;
      }
      await this.buffer.close();
    }
  }

  private async drainMemory(deadlineMs: number): Promise<void> {
    this.draining = true;
    // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, the pump() below sends the queue; a setImmediate left pending only pump()s an empty one
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = undefined; }
    this.pump();
    const idle = new Promise<void>((resolve) => {
      // While failing (disk buffer) the queue is not sent: it goes to disk once nothing is in flight.
      if ((this.queue.length === 0 || this.failing) && this.inFlightBatches.size === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    if (deadlineMs === Infinity) return idle;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([idle.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), deadlineMs); })]);
    clearTimeout(timer);
    if (!timedOut) return;
    const left = this.queue.takeAll();
    this.abort.abort();
    if (left.length && this.buffer) {
      if (await this.buffer.prepend(left)) this.bm!.buffered.inc(left.length);
      else await this.failFinally(left, 'disk buffer full at shutdown');
    } else if (left.length) {
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
      ...(this.buffer ? { buffer: { bytes: this.buffer.bytes, spilling: this.spilling, failing: this.failing } } : {}),
      ...(this.destination.status ? { details: this.destination.status() } : {}),
    };
  }
}
