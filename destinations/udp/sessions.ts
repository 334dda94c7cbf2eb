/**
 * Sticky UDP proxy sessions: one upstream socket per client (listener + address + port), bound to an
 * ephemeral port of the backend's family. The backend is picked when the session is created and kept.
 * One timer sweeps idle sessions; at maxSessions the least recently active session is evicted.
 * Sessions own their sockets; nothing else opens or closes them.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import type { ClientSender } from '../../gateway/destination.js';
import type { Endpoint, Packet } from '../../gateway/packet.js';
import { hashAddress, type Backend } from './backends.js';

export type Balance = 'hash' | 'round-robin';

export interface SessionTableOptions {
  readonly backends: readonly Backend[];
  readonly balance: Balance;
  readonly idleTimeoutMs: number;
  readonly maxSessions: number;
  readonly replies: boolean;
  readonly clients: ClientSender;
  readonly logger: Logger;
  readonly now?: () => number;
}

export type SendCallback = (err: Error | null | undefined) => void;

export interface Session {
  readonly key: string;
  readonly socket: Socket;
  readonly backend: Backend;
  readonly listener: string;
  readonly remote: Endpoint;
  lastSeen: number;
  /** When the session last moved to the end of the table (recency order, refreshed at most once a second). */
  reordered: number;
  /** Datagrams held while the upstream socket connects; undefined once connected (or failed). */
  held: { data: Buffer; done: SendCallback }[] | undefined;
  /** Set when connect() failed: every send reports it. */
  failure: Error | undefined;
}

/**
 * Send on a session's upstream socket. The socket is connected to its backend (no address lookup
 * per datagram, and the kernel filters out datagrams from anyone else); until connect completes,
 * datagrams are held in order and sent when it does.
 */
export function sendOnSession(s: Session, data: Buffer, done: SendCallback): void {
  if (s.held) s.held.push({ data, done });
  else if (s.failure) done(s.failure);
  else s.socket.send(data, done);
}

export interface SessionStats {
  created: number; expired: number; evicted: number;
  repliesRelayed: number; repliesForeign: number; socketErrors: number;
}

/** Recency order in the Map is refreshed at most this often per session (one delete+set), not per packet. */
const REORDER_EVERY_MS = 1_000;

export class SessionTable {
  readonly stats: SessionStats = { created: 0, expired: 0, evicted: 0, repliesRelayed: 0, repliesForeign: 0, socketErrors: 0 };
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private roundRobin = 0;

  constructor(private readonly opts: SessionTableOptions) {
    this.now = opts.now ?? Date.now;
    const every = Math.min(Math.max(Math.floor(opts.idleTimeoutMs / 4), 10), 5_000);
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  get size(): number { return this.sessions.size; }

  /** The session of this packet's client, created (and a backend picked) on its first packet. */
  sessionFor(p: Packet, now: number): Session {
    const key = `${p.listener} ${p.remote.address} ${p.remote.port}`;
    const s = this.sessions.get(key);
    if (s === undefined) return this.create(key, p, now);
    s.lastSeen = now;
    if (now - s.reordered > REORDER_EVERY_MS) {
      s.reordered = now;
      this.sessions.delete(key);
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Backend of a client session, if one exists (for status and tests). */
  backendOf(listener: string, remote: Endpoint): Backend | undefined {
    return this.sessions.get(`${listener} ${remote.address} ${remote.port}`)?.backend;
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
    const closing = [...this.sessions.values()].map((s) => new Promise<void>((resolve) => {
      s.socket.once('close', resolve);
      this.drop(s);
    }));
    await Promise.all(closing);
  }

  private pick(address: string): Backend {
    const list = this.opts.backends;
    const i = this.opts.balance === 'hash' ? hashAddress(address) % list.length : this.roundRobin++ % list.length;
    return list[i]!;
  }

  private create(key: string, p: Packet, now: number): Session {
    if (this.sessions.size >= this.opts.maxSessions) this.evictOldest();
    const backend = this.pick(p.remote.address);
    const socket = createSocket(backend.family === 6 ? 'udp6' : 'udp4');
    const s: Session = { key, socket, backend, listener: p.listener, remote: p.remote, lastSeen: now, reordered: now, held: [], failure: undefined };
    socket.on('error', (err) => {
      this.stats.socketErrors++;
      this.opts.logger.debug({ err, backend: backend.label }, 'upstream socket error');
    });
    if (this.opts.replies) socket.on('message', (data, rinfo) => this.relay(s, data, rinfo));
    // connect() binds an ephemeral port first; held datagrams go out, in order, once it completes.
    socket.connect(backend.port, backend.address, (err?: Error) => {
      const held = s.held ?? [];
      s.held = undefined;
      if (err) s.failure = err;
      for (const h of held) sendOnSession(s, h.data, h.done);
    });
    this.sessions.set(key, s);
    this.stats.created++;
    return s;
  }

  /** A backend's datagram goes back to the client from the listener's socket; anyone else's is dropped. */
  private relay(s: Session, data: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.port !== s.backend.port || rinfo.address !== s.backend.address) {
      this.stats.repliesForeign++;
      return;
    }
    s.lastSeen = this.now();
    this.stats.repliesRelayed++;
    this.opts.clients.sendToClient(s.listener, s.remote, data);
  }

  private evictOldest(): void {
    const oldest = this.sessions.values().next().value;
    if (oldest) { this.stats.evicted++; this.drop(oldest); }
  }

  private drop(s: Session): void {
    this.sessions.delete(s.key);
    const held = s.held ?? [];
    s.held = undefined;
    s.failure = new Error('udp session closed');
    for (const h of held) h.done(s.failure);
    try { s.socket.close(); } catch { /* already closed */ }
  }
}
