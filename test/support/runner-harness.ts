/**
 * A DestinationRunner driven on values (test/core/runner-*.test.ts): a destination whose every
 * sendBatch call the test answers by hand, a dead-letter and a disk buffer in memory that record
 * exactly what they got, a logger that records its lines, and counters read from the registry.
 */
import { vi } from 'vitest';
import type { Logger } from 'pino';
import { DestinationRunner } from '../../gateway/fanout/runner.js';
import { Metrics } from '../../gateway/metrics.js';
import type { BatchResult, DeliveryOutcome, Destination, DestinationLimits, DestinationSessions } from '../../gateway/extension/destination.js';
import type { CommonDestinationConfig } from '../../gateway/config/schema.js';
import type { Packet, Reply } from '../../gateway/packet.js';
import type { DeadLetter } from '../../gateway/fanout/dead-letter.js';
import type { DiskBuffer } from '../../gateway/fanout/disk-buffer.js';

export interface RunnerOptions {
  maxPackets?: number; maxBytes?: number; lingerMs?: number; queue?: number; inFlight?: number;
  maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number;
}

export function config(o: RunnerOptions = {}): CommonDestinationConfig {
  return {
    name: 'd', type: 'test', batch: { maxPackets: o.maxPackets ?? 100, maxBytes: o.maxBytes ?? 1 << 20, lingerMs: o.lingerMs ?? 0 },
    queue: { maxPackets: o.queue ?? 100 }, inFlight: o.inFlight ?? 4,
    retry: { maxAttempts: o.maxAttempts ?? 1, baseDelayMs: o.baseDelayMs ?? 10, maxDelayMs: o.maxDelayMs ?? 10 },
  } as CommonDestinationConfig;
}

/** A packet whose payload is its name; receivedAt fixed unless given. */
export function packet(name: string, receivedAt = 1_000): Packet {
  return {
    tag: `tag-${name}`, listener: 'edge', remote: { address: '127.0.0.1', port: 40_000 }, local: { address: '127.0.0.1', port: 5555 },
    receivedAt, data: Buffer.from(name), formatter: 'utf8',
  };
}

export const names = (ps: readonly Packet[]): string[] => ps.map((p) => p.data.toString());

export type Answer = 'delivered' | 'retryable' | 'failed' | DeliveryOutcome;

export interface Call {
  readonly names: string[];
  readonly signal: AbortSignal;
  /** Answer every packet the same, or one answer per packet; replies optional. */
  answer(a: Answer | Answer[], replies?: Reply[]): void;
  fail(err: Error): void;
  answered: boolean;
}

const outcome = (a: Answer, i: number): DeliveryOutcome =>
  typeof a !== 'string' ? a : a === 'delivered' ? { status: 'delivered' } : { status: a, reason: `${a}-${i}` };

/** A destination answered by the test: each sendBatch call waits in `calls` until answered. */
export function handDestination(opts: { limits?: DestinationLimits; sessions?: DestinationSessions; status?: () => Record<string, unknown> } = {}) {
  const calls: Call[] = [];
  const dest: Destination & { calls: Call[]; open(): Call[] } = {
    kind: 'hand', name: 'd', calls, limits: opts.limits, sessions: opts.sessions, status: opts.status,
    open: () => calls.filter((c) => !c.answered),
    sendBatch: (batch, signal) => new Promise<BatchResult>((resolve, reject) => {
      const call: Call = {
        names: names(batch), signal, answered: false,
        answer: (a, replies) => {
          call.answered = true;
          resolve({ outcomes: batch.map((_, i) => outcome(Array.isArray(a) ? a[i]! : a, i)), ...(replies ? { replies } : {}) });
        },
        fail: (err) => { call.answered = true; reject(err); },
      };
      calls.push(call);
    }),
  };
  return dest;
}

/** A destination that answers within the call (as the udp proxy does). */
export function syncDestination(answer: (batch: readonly Packet[], n: number) => BatchResult = (b) => ({ outcomes: b.map(() => ({ status: 'delivered' as const })) })) {
  const batches: string[][] = [];
  const dest: Destination & { batches: string[][] } = {
    kind: 'sync', name: 'd', batches,
    sendBatch: (batch) => { batches.push(names(batch)); return answer(batch, batches.length); },
  };
  return dest;
}

/** A dead-letter in memory: what it was given, with the reason; it can be made to refuse. */
export function memoryDeadLetter() {
  const written: { names: string[]; reason: string }[] = [];
  const dl: DeadLetter & { written: typeof written; refuse?: Error; gate?: Promise<void>; slow?: boolean; waiting: (() => void)[] } = {
    written, waiting: [],
    write: async (packets, reason) => {
      if (dl.gate) await dl.gate; // a slow dead-letter, until the test opens it
      if (dl.slow) await new Promise<void>((r) => dl.waiting.push(r)); // each write until the test lets it through
      if (dl.refuse) throw dl.refuse;
      written.push({ names: names(packets), reason });
    },
  };
  return dl;
}

/**
 * A disk buffer in memory with the DiskBuffer's contract: append (sync, false past its limit in
 * records), prepend (before everything), read (the same packets again until commit), commit, close.
 */
export class MemoryBuffer {
  records: Packet[] = [];
  private lastRead = 0;
  closed = false;
  /** Records it takes at most (append and prepend refuse past it). */
  constructor(public limit = 1_000, initial: string[] = []) { this.records = initial.map((n) => packet(n)); }
  readonly log: string[] = [];
  readFails: Error | undefined;
  prependFails: Error | undefined;
  /** Records on their way to disk: not empty, yet nothing to read. */
  writing = false;
  /** Set by the runner: told of records a failed write lost. */
  onWriteError: ((err: Error, records: number) => void) | undefined;
  get empty(): boolean { return this.records.length === 0 && !this.writing; }
  get bytes(): number { return this.records.reduce((n, p) => n + p.data.length, 0); }
  get names(): string[] { return names(this.records); }
  append(p: Packet): boolean {
    if (this.closed || this.records.length >= this.limit) return false;
    this.records.push(p);
    this.log.push(`append ${p.data.toString()}`);
    return true;
  }
  async prepend(ps: readonly Packet[]): Promise<boolean> {
    if (ps.length === 0) return true;
    if (this.prependFails) throw this.prependFails;
    if (this.records.length + ps.length > this.limit) return false;
    this.records.unshift(...ps);
    this.log.push(`prepend ${names(ps).join(',')}`);
    return true;
  }
  reads = 0;
  async read(max: number, fits: (count: number, p: Packet) => boolean = () => true): Promise<Packet[]> {
    this.reads++;
    if (this.readFails) throw this.readFails;
    const out: Packet[] = [];
    if (this.writing) return out;
    for (const p of this.records) {
      if (out.length >= max || (!fits(out.length, p) && out.length > 0)) break; // asked of every packet; the first is taken anyway
      out.push(p);
    }
    this.lastRead = out.length;
    return out;
  }
  async commit(): Promise<void> {
    this.log.push(`commit ${names(this.records.slice(0, this.lastRead)).join(',')}`);
    this.records.splice(0, this.lastRead);
    this.lastRead = 0;
  }
  async close(): Promise<void> { this.closed = true; this.log.push('close'); }
}

export interface LogLine { level: string; msg: string; obj: Record<string, unknown> }

export function recordingLogger() {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => { lines.push({ level, msg, obj }); };
  const logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace'), fatal: at('fatal') } as unknown as Logger;
  return { logger, lines };
}

export function makeRunner(dest: Destination, o: RunnerOptions = {}, extra: { deadLetter?: DeadLetter; buffer?: MemoryBuffer; repliesThrow?: Error } = {}) {
  const metrics = new Metrics();
  const { logger, lines } = recordingLogger();
  const replies: { tags: string[]; destination: string }[] = [];
  const runner = new DestinationRunner('edge', dest, config(o), {
    metrics, logger, onReplies: (rs, destination) => { replies.push({ tags: rs.map((r) => r.tag), destination }); if (extra.repliesThrow) throw extra.repliesThrow; },
    deadLetter: extra.deadLetter, buffer: extra.buffer as unknown as DiskBuffer | undefined,
  });
  /** Sum of a metric's values whose labels include `labels` (the histogram: its _sum/_count by `series`). */
  const value = async (name: string, labels: Record<string, string> = {}, series?: string): Promise<number> =>
    (await metrics.registry.getSingleMetric(name)!.get()).values
      .filter((v) => (series === undefined || (v as { metricName?: string }).metricName === series) && Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((a, v) => a + v.value, 0);
  const c = (name: string) => value(`udpgw_destination_${name}`, { destination: 'edge/d' });
  const drops = (reason: string) => value('udpgw_drops_total', { where: 'edge/d', reason });
  /** The scrape-time gauges (reading `queued` reads them all), for this runner's destination. */
  const gauges = async () => {
    const q = await c('queued');
    return { queued: q, inFlight: await c('in_flight'), sessions: await c('sessions'), bufferBytes: await c('buffer_bytes') };
  };
  const errors = () => lines.filter((l) => l.level === 'error').map((l) => l.msg);
  return { runner, metrics, lines, replies, value, c, drops, errors, gauges };
}

/** Let promises and timers due now run (fake timers). */
export const settle = async (ms = 0): Promise<void> => { await vi.advanceTimersByTimeAsync(ms); };
