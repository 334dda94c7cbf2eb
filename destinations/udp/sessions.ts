/**
 * Sticky UDP proxy sessions: one upstream socket per client (listener + address + port), connected
 * to the backend picked when the session is created and kept. One timer sweeps idle sessions; at
 * maxSessions the least recently active session is evicted. Sessions own their sockets (opened
 * and closed through the destination's Upstreams, native or dgram); nothing else touches them.
 */
import type { Logger } from 'pino';
import type { ClientSender } from '../../gateway/plugin-kit.js';
import type { Endpoint, Packet } from '../../gateway/plugin-kit.js';
import { hashAddress, type Backend } from './backends.js';
import type { Upstreams } from './upstream.js';

export type Balance = 'hash' | 'round-robin';

export interface SessionTableOptions<U> {
  readonly backends: readonly Backend[];
  readonly balance: Balance;
  readonly idleTimeoutMs: number;
  readonly maxSessions: number;
  readonly replies: boolean;
  readonly clients: ClientSender;
  readonly logger: Logger;
  readonly upstreams: Upstreams<U>;
  readonly now?: () => number;
}

export interface Session<U> {
  readonly key: string;
  readonly upstream: U;
  readonly backend: Backend;
  readonly listener: string;
  readonly remote: Endpoint;
  lastSeen: number;
  /** When the session last moved to the end of the table (recency order, refreshed at most once a second). */
  reordered: number;
}

export interface SessionStats {
  created: number; expired: number; evicted: number;
  repliesRelayed: number; repliesForeign: number; socketErrors: number;
}

/** Recency order in the Map is refreshed at most this often per session (one delete+set), not per packet. */
const REORDER_EVERY_MS = 1_000;

/**
 * Sessions by listener, client address and port, for the per-packet lookup: the strings are the
 * ones the listener hands over (the transport caches address strings, so their hashes are cached
 * too) and the port is a small integer, so a lookup allocates nothing, unlike a joined key string.
 */
class SessionIndex<S> {
  private readonly byListener = new Map<string, Map<string, Map<number, S>>>();

  get(listener: string, address: string, port: number): S | undefined {
    return this.byListener.get(listener)?.get(address)?.get(port);
  }

  set(listener: string, address: string, port: number, s: S): void {
    let byAddress = this.byListener.get(listener);
    if (!byAddress) this.byListener.set(listener, byAddress = new Map());
    let byPort = byAddress.get(address);
    if (!byPort) byAddress.set(address, byPort = new Map());
    byPort.set(port, s);
  }

  delete(listener: string, address: string, port: number): void {
    const byAddress = this.byListener.get(listener);
    const byPort = byAddress?.get(address);
    if (!byAddress || !byPort) return;
    byPort.delete(port);
    if (byPort.size === 0) byAddress.delete(address);
    if (byAddress.size === 0) this.byListener.delete(listener);
  }
}

export class SessionTable<U> {
  readonly stats: SessionStats = { created: 0, expired: 0, evicted: 0, repliesRelayed: 0, repliesForeign: 0, socketErrors: 0 };
  /** Every session, least recently active first (the order eviction uses). */
  private readonly sessions = new Map<string, Session<U>>();
  private readonly index = new SessionIndex<Session<U>>();
  private readonly closing = new Set<Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private roundRobin = 0;

  constructor(private readonly opts: SessionTableOptions<U>) {
    this.now = opts.now ?? Date.now;
    const every = Math.min(Math.max(Math.floor(opts.idleTimeoutMs / 4), 10), 5_000);
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  get size(): number { return this.sessions.size; }

  /** The session of this packet's client, created (and a backend picked) on its first packet. */
  sessionFor(p: Packet, now: number): Session<U> {
    const s = this.index.get(p.listener, p.remote.address, p.remote.port);
    if (s === undefined) return this.create(`${p.listener} ${p.remote.address} ${p.remote.port}`, p, now);
    s.lastSeen = now;
    if (now - s.reordered > REORDER_EVERY_MS) {
      s.reordered = now;
      this.sessions.delete(s.key);
      this.sessions.set(s.key, s);
    }
    return s;
  }

  /** Backend of a client session, if one exists (for status and tests). */
  backendOf(listener: string, remote: Endpoint): Backend | undefined {
    return this.index.get(listener, remote.address, remote.port)?.backend;
  }

  /** Close idle sessions; called by the sweeper. */
  sweep(): void {
    const cutoff = this.now() - this.opts.idleTimeoutMs;
    for (const s of this.sessions.values()) {
      if (s.lastSeen <= cutoff) { this.stats.expired++; this.drop(s); }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const s of [...this.sessions.values()]) this.drop(s);
    await Promise.all([...this.closing]);
  }

  private pick(address: string): Backend {
    const list = this.opts.backends;
    const i = this.opts.balance === 'hash' ? hashAddress(address) % list.length : this.roundRobin++ % list.length;
    return list[i]!;
  }

  private create(key: string, p: Packet, now: number): Session<U> {
    if (this.sessions.size >= this.opts.maxSessions) this.evictOldest();
    const backend = this.pick(p.remote.address);
    const listener = p.listener, remote = p.remote;
    const upstream = this.opts.upstreams.open(backend, {
      reply: (data) => this.relay(s, data),
      foreign: () => { this.stats.repliesForeign++; },
      error: (err) => {
        this.stats.socketErrors++;
        this.opts.logger.debug({ err, backend: backend.label }, 'upstream socket error');
      },
    });
    const s: Session<U> = { key, upstream, backend, listener, remote, lastSeen: now, reordered: now };
    this.sessions.set(key, s);
    this.index.set(listener, remote.address, remote.port, s);
    this.stats.created++;
    return s;
  }

  /** A backend's datagram goes back to the client from the listener's socket. */
  private relay(s: Session<U>, data: Buffer): void {
    if (!this.opts.replies) return;
    s.lastSeen = this.now();
    this.stats.repliesRelayed++;
    this.opts.clients.sendToClient(s.listener, s.remote, data);
  }

  private evictOldest(): void {
    const oldest = this.sessions.values().next().value;
    if (oldest) { this.stats.evicted++; this.drop(oldest); }
  }

  private drop(s: Session<U>): void {
    if (this.sessions.get(s.key) !== s) return;
    this.sessions.delete(s.key);
    this.index.delete(s.listener, s.remote.address, s.remote.port);
    const closed = this.opts.upstreams.close(s.upstream).catch(() => {});
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }
}
