/**
 * This node's side of the cluster's flow directory. The hot path (`seen`, one call per received
 * datagram) is a Map lookup: a flow is queued for writing only when it is new, or when its Redis
 * entry has less than half its time to live left, so a steady client costs about two writes per
 * window. A timer flushes the queue in one pipeline per `flushMs`. Everything is bounded: the
 * flows this node remembers (maxFlows, oldest evicted), the queue (maxPending, overflow counted and
 * retried on the flow's next datagram), the owner cache (maxCached).
 */
import type { ClusterBus, OwnershipWrite } from './bus.js';
import { flowKey, plainAddress } from './bus.js';

export interface FlowDirectoryOptions {
  readonly bus: ClusterBus;
  readonly prefix: string;
  /** Time to live of an entry: the egress policy's recent-client window. */
  readonly ttlMs: number;
  readonly flushMs: number;
  readonly maxPending: number;
  /** Flows remembered per listener (the egress policy's maxRecentClients). */
  readonly maxFlows: number;
  readonly ownerCacheMs: number;
  readonly maxCached?: number;
  /** Most entries written per flush (one pipeline); the rest wait for the next. */
  readonly maxBatch?: number;
  readonly now?: () => number;
  readonly count: (reason: 'pending-overflow' | 'flush-failed', n: number) => void;
}

export class FlowDirectory {
  /** Per listener: flow ("address|port") → when its entry was last queued for writing. */
  private readonly written = new Map<string, Map<string, number>>();
  private readonly pending = new Map<string, string>(); // redis key → listener|flow (to forget on failure)
  private readonly cache = new Map<string, { owner: string | null; at: number }>();
  private readonly now: () => number;
  private readonly refreshMs: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private requeue: Iterator<[string, string, number]> | undefined;
  readonly stats = { queued: 0, written: 0, flushes: 0, lookups: 0, cacheHits: 0 };

  constructor(private readonly o: FlowDirectoryOptions) {
    this.now = o.now ?? Date.now;
    this.refreshMs = o.ttlMs / 2;
  }

  /** The hot-path hook of one listener: (client address, port, received at). */
  seenOn(listener: string): (address: string, port: number, at: number) => void {
    let flows = this.written.get(listener);
    if (!flows) this.written.set(listener, flows = new Map());
    const table = flows;
    return (address, port, at) => {
      const flow = `${address}|${port}`;
      const w = table.get(flow);
      if (w !== undefined && at - w < this.refreshMs) return;
      this.queue(listener, table, flow, address, port, at);
    };
  }

  private queue(listener: string, table: Map<string, number>, flow: string, address: string, port: number, at: number): void {
    if (this.pending.size >= this.o.maxPending) { this.o.count('pending-overflow', 1); return; }
    if (table.has(flow)) table.delete(flow); // to the end: the oldest stay first
    else if (table.size >= this.o.maxFlows) table.delete(table.keys().next().value as string);
    table.set(flow, at);
    this.pending.set(flowKey(this.o.prefix, listener, address, port), `${listener}\n${flow}`);
    this.stats.queued++;
  }

  /**
   * After Redis came back (it may have restarted empty): every flow still within its time to live
   * is written again, a queue's worth per flush (the queue stays bounded), until all were.
   */
  requeueAll(): void { this.requeue = this.flows(); }

  private *flows(): Generator<[string, string, number]> {
    for (const [listener, table] of this.written) for (const [flow, w] of table) yield [listener, flow, w];
  }

  private topUp(): void {
    if (!this.requeue) return;
    const now = this.now();
    while (this.pending.size < this.o.maxPending) {
      const next = this.requeue.next();
      if (next.done) { this.requeue = undefined; return; }
      const [listener, flow, w] = next.value;
      if (now - w > this.o.ttlMs) continue;
      const bar = flow.lastIndexOf('|');
      this.pending.set(flowKey(this.o.prefix, listener, flow.slice(0, bar), Number(flow.slice(bar + 1))), `${listener}\n${flow}`);
    }
  }

  /** True when this node received the flow within the entry's time to live. */
  ownsFlow(listener: string, address: string, port: number): boolean {
    const table = this.written.get(listener);
    if (!table) return false;
    let w = table.get(`${address}|${port}`);
    const plain = plainAddress(address);
    if (w === undefined) w = table.get(`::ffff:${plain}|${port}`) ?? table.get(`${plain}|${port}`);
    return w !== undefined && this.now() - w <= this.o.ttlMs;
  }

  /** The node that owns a flow (null: none), from the cache or one lookup; throws when Redis fails. */
  async ownerOf(listener: string, address: string, port: number): Promise<string | null> {
    const key = flowKey(this.o.prefix, listener, address, port);
    const now = this.now();
    const c = this.cache.get(key);
    if (c !== undefined && now - c.at < this.o.ownerCacheMs) { this.stats.cacheHits++; return c.owner; }
    this.stats.lookups++;
    const [owner] = await this.o.bus.owners([key]);
    if (this.o.ownerCacheMs > 0) {
      if (this.cache.has(key)) this.cache.delete(key);
      else if (this.cache.size >= (this.o.maxCached ?? 10_000)) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { owner: owner ?? null, at: now });
    }
    return owner ?? null;
  }

  /** Forget a cached owner (it did not hear a forward). */
  forgetOwner(listener: string, address: string, port: number): void {
    this.cache.delete(flowKey(this.o.prefix, listener, address, port));
  }

  start(): void {
    this.timer ??= setInterval(() => { void this.flush(); }, this.o.flushMs);
    this.timer.unref();
  }

  get pendingCount(): number { return this.pending.size; }

  /** One pipeline of at most maxBatch entries; while Redis is down the queue waits (bounded). */
  flush(): Promise<void> {
    if (this.flushing || !this.o.bus.up) return this.flushing ?? Promise.resolve();
    this.topUp();
    if (this.pending.size === 0) return Promise.resolve();
    const batch: OwnershipWrite[] = [];
    const flows: string[] = [];
    for (const [key, flow] of this.pending) {
      batch.push({ key });
      flows.push(flow);
      this.pending.delete(key);
      if (batch.length >= (this.o.maxBatch ?? 10_000)) break;
    }
    this.flushing = this.o.bus.writeOwnership(batch, this.o.ttlMs).then(() => {
      this.stats.flushes++;
      this.stats.written += batch.length;
    }, () => {
      // Not written: forget them here too, so each is queued again on its next datagram.
      this.o.count('flush-failed', batch.length);
      for (const f of flows) { const [l, flow] = f.split('\n') as [string, string]; this.written.get(l)?.delete(flow); }
    }).finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  status(): Record<string, unknown> {
    let flows = 0;
    for (const t of this.written.values()) flows += t.size;
    return { flows, pending: this.pending.size, cachedOwners: this.cache.size, ...this.stats };
  }
}
