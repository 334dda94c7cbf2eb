/**
 * UDP proxy sessions: one upstream socket per client (listener + address + port), connected to the
 * backend the destination's router chose when the session started, and kept. The hot path (an open
 * session) is one index lookup and two field writes; everything else — a new session, datagrams
 * held while the router decides, PROXY headers, failover, counts — is off that path (routing.ts).
 * One timer sweeps idle sessions; at maxSessions the least recently active session is evicted.
 * Sessions own their sockets (opened and closed through the destination's Upstreams); nothing else
 * touches them.
 */
import type { Logger } from 'pino';
import { isProxy, type ClientSender, type Endpoint, type OffloadedFlow, type Packet, type RouteDecision, type Router, type RouteTarget, type SessionControl, type SessionInfo } from '../../gateway/plugin-kit.js';
import { Mode, SessionIndex, type Session, type SessionHost, type SessionStats } from './session.js';
export type { SessionStats } from './session.js';
import { SessionRouting, type RoutingOptions } from './routing.js';
import { SessionOffload } from './offload.js';
import type { Upstreams } from './upstream.js';

export interface SessionTableOptions<U> extends RoutingOptions {
  readonly router: Router;
  readonly idleTimeoutMs: number;
  readonly maxSessions: number;
  readonly replies: boolean;
  /** End a session after this many datagrams from the client (its next datagram starts a new one); 0: no limit. */
  readonly maxRequests: number;
  /** End a session after this many datagrams back from the backend; 0: no limit. */
  readonly maxReplies: number;
  /** false: every datagram is routed by itself (syslog, StatsD); a client has a socket per backend it was sent to. */
  readonly sticky: boolean;
  readonly clients: ClientSender;
  readonly logger: Logger;
  readonly upstreams: Upstreams<U>;
  readonly countDrop: (reason: string, n?: number) => void;
  readonly countEvent: (event: string, n?: number) => void;
  readonly now?: () => number;
  /** Flow offload (the listener's transport forwards an open session both ways itself): asks for
   *  it, undefined when refused. Absent: never. */
  readonly offload?: (s: Session<U>) => OffloadedFlow | undefined;
}



/** Recency order in the Map is refreshed at most this often per session (one delete+set), not per packet. */
const REORDER_EVERY_MS = 1_000;

export class SessionTable<U> implements SessionControl, SessionHost<U> {
  readonly stats: SessionStats = {
    created: 0, expired: 0, evicted: 0, ended: 0, endedByCount: 0, repliesRelayed: 0, repliesForeign: 0, socketErrors: 0,
    routeFailures: 0, connectErrors: 0, inactive: 0, failovers: 0, heldDropped: 0,
  };
  /** Every session, least recently active first (the order eviction uses). */
  private readonly sessions = new Map<string, Session<U>>();
  private readonly index = new SessionIndex<Session<U>>();
  private readonly closing = new Set<Promise<void>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly routing: SessionRouting<U>;
  readonly now: () => number;
  private readonly maxRequests: number;
  // Stryker disable next-line BooleanLiteral: equivalent, relay() sets it before anything can send or be refused (sessions start in a relay)
  private inBatch = false;
  /** Datagrams to send by themselves once the batch being relayed is out (the net layer's send
   *  state is shared during a relay). */
  private outbox: { s: Session<U>; u: U | undefined; data: Buffer }[] = [];
  // Stryker disable next-line ArrayDeclaration: equivalent, a non-socket in the list has no session (WeakMap lookup) and the first relay's flush empties it
  private refused: U[] = [];
  /** Sessions made Single while they have datagrams in the outbox (Direct again after the flush). */
  // Stryker disable next-line ArrayDeclaration: equivalent, a non-session in the list is never in Single mode: skipped
  private unpin: Session<U>[] = [];
  /** Sockets of sessions ended by count during a batch, closed after it. */
  private retired: U[] = [];
  private readonly sessionOfAt: (p: Packet) => { readonly upstream: U } | undefined;
  private batchNow = 0;
  /** Set where sessions may be offloaded at all: what the offload bypasses (counts, PROXY headers
   *  on every datagram, per-datagram routing, dropped replies) is not configured. */
  private readonly offload: SessionOffload<U> | undefined;

  constructor(private readonly opts: SessionTableOptions<U>) {
    this.now = opts.now ?? Date.now;
    this.maxRequests = opts.maxRequests > 0 ? opts.maxRequests : Infinity;
    this.sessionOfAt = opts.sticky
      ? (p) => this.sessionFor(p, this.batchNow) as { readonly upstream: U } | undefined
      : (p) => this.perPacket(p, this.batchNow) as { readonly upstream: U } | undefined;
    this.routing = new SessionRouting(opts, this, this.stats);
    this.offload = opts.offload !== undefined && opts.sticky && opts.replies && this.maxRequests === Infinity && !(opts.maxReplies > 0) && !opts.proxyHeader?.every
      ? new SessionOffload(opts.offload, {
        stats: this.stats, proxyHeader: opts.proxyHeader !== undefined,
        refused: (u) => opts.upstreams.onRefused?.(u),
        touched: (s, now) => { s.reordered = now; this.sessions.delete(s.key); this.sessions.set(s.key, s); },
      }) : undefined;
    opts.upstreams.onRefused = (u) => {
      this.refused.push(u);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, a microtask also queued during a relay, or once more, finds the list empty (the relay's finally flushes first)
      if (!this.inBatch && this.refused.length === 1) queueMicrotask(() => this.flushRefused());
    };
    const every = Math.min(Math.max(Math.floor(opts.idleTimeoutMs / 4), 10), 5_000);
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  get size(): number { return this.sessions.size; }

  /** Sessions whose flow is offloaded now (as of their last look). */
  get offloaded(): number { return SessionOffload.count(this.sessions.values()); }

  /** Relays a batch: each packet on its session's socket, or held / sent by itself (then 'delivered'). */
  relay(batch: readonly Packet[], now: number): ReturnType<Upstreams<U>['relay']> {
    this.inBatch = true;
    this.batchNow = now;
    let r: ReturnType<Upstreams<U>['relay']> | undefined;
    try {
      return r = this.opts.upstreams.relay(batch, this.sessionOfAt);
    } finally {
      this.inBatch = false;
      // Stryker disable next-line ConditionalExpression: equivalent, flushing an empty outbox sends nothing (the guard keeps the hot path free of it)
      const sent = this.outbox.length ? this.flushOutbox() : undefined;
      if (this.refused.length) this.flushRefused();
      if (this.retired.length) this.closeRetired(r, sent);
    }
  }

  /** The open session of this packet's client; undefined when the packet was held or sent by itself. */
  sessionFor(p: Packet, now: number): Session<U> | undefined {
    const s = this.index.get(p.listener, p.remote.address, p.remote.port);
    if (s !== undefined && s.mode === Mode.Direct && s.requests < this.maxRequests) {
      s.lastSeen = now;
      s.requests++;
      if (s.held !== undefined) this.routing.keepForReplay(s, p.data);
      else if (this.offload !== undefined && SessionOffload.due(s, now)) this.offload.check(s, now);
      if (now - s.reordered > REORDER_EVERY_MS) {
        s.reordered = now;
        this.sessions.delete(s.key);
        this.sessions.set(s.key, s);
      }
      return s;
    }
    return this.slowPath(s, p, now);
  }

  /**
   * Not sticky: the router answers for every datagram (it must answer at once: static or rules);
   * the client has one session, and socket, per backend it was sent to.
   */
  perPacket(p: Packet, now: number): Session<U> | undefined {
    let d: RouteDecision | Promise<RouteDecision>;
    try {
      d = this.opts.router.route({ listener: p.listener, remote: p.remote, local: p.local, data: [p.data], failed: [] });
    } catch { d = { drop: 'route-failed' }; }
    if (typeof (d as Promise<RouteDecision>).then === 'function') { this.opts.countDrop('route-async-per-packet'); return undefined; }
    const decision = d as RouteDecision;
    if (!isProxy(decision) || typeof decision.remote === 'string') { this.perPacketOther(decision); return undefined; }
    const key = `${p.listener} ${p.remote.address} ${p.remote.port} ${decision.remote.label}`;
    const s = this.sessions.get(key);
    if (s !== undefined) {
      s.lastSeen = now;
      s.requests++;
      if (s.mode === Mode.Direct) return s;
      this.send(s, p.data); // a PROXY header on every datagram: sent by itself, and counted all the same
      return undefined;
    }
    if (this.sessions.size >= this.opts.maxSessions) this.evictOldest();
    const created = this.routing.newSession(p, now, key);
    this.sessions.set(key, created);
    this.stats.created++;
    return this.routing.start(created, p.data, decision);
  }

  /** A per-packet answer other than a resolved backend: a drop or close is counted; a "host:port" text is refused. */
  private perPacketOther(d: RouteDecision): void {
    if ('drop' in d && typeof d.drop === 'string') this.opts.countDrop(d.drop);
    else if ('close' in d) this.opts.countDrop('route-close');
    else this.opts.countDrop('route-per-packet-unsupported');
  }

  /** Takes the counts of every offloaded flow (before the sessions are listed or reported). */
  syncFlows(): void {
    if (this.offload === undefined) return;
    const now = this.now();
    for (const s of [...this.sessions.values()]) if (s.flow !== undefined) this.offload.sync(s, now);
  }

  endFlow(s: Session<U>): void { this.offload?.end(s, this.now()); }

  private slowPath(s: Session<U> | undefined, p: Packet, now: number): Session<U> | undefined {
    if (s !== undefined && s.requests >= this.maxRequests && s.mode !== Mode.Pending) {
      this.stats.endedByCount++;
      this.retire(s);
      s = undefined;
    }
    if (s === undefined) return this.routing.start(this.create(p, now), p.data);
    s.lastSeen = now;
    s.requests++;
    if (s.mode === Mode.Pending) this.routing.hold(s, p.data);
    else this.send(s, p.data);
    return undefined;
  }

  private create(p: Packet, now: number): Session<U> {
    if (this.sessions.size >= this.opts.maxSessions) this.evictOldest();
    const s = this.routing.newSession(p, now);
    this.sessions.set(s.key, s);
    this.index.set(s.listener, s.remote.address, s.remote.port, s);
    this.stats.created++;
    return s;
  }

  /** One datagram to the session's backend, by itself (a PROXY header when one is due). */
  send(s: Session<U>, data: Buffer): void {
    const out = this.routing.framed(s, data);
    if (this.inBatch) {
      this.outbox.push({ s, u: s.upstream, data: out });
      // The session's later datagrams of this batch follow it through the outbox, in order.
      if (s.mode === Mode.Direct) { s.mode = Mode.Single; this.unpin.push(s); }
    } else if (!s.ended && s.upstream !== undefined) void this.opts.upstreams.send(s.upstream, out);
  }

  /** A session past its count, during a batch: out of the table now (the client's next datagram
   *  starts a new one), its socket closed once this batch's datagrams on it have left. */
  private retire(s: Session<U>): void {
    const u = s.upstream;
    s.upstream = undefined;
    this.end(s);
    // Stryker disable next-line ConditionalExpression: equivalent, a session past its count is open (never Pending here), so it has a socket
    if (u !== undefined) this.retired.push(u);
  }

  /** Closes the retired sockets once the batch's datagrams on them are out: those of the relay (`r`)
   *  and those sent by themselves (`sent`: the outbox's sends still being handed over). */
  private closeRetired(r: ReturnType<Upstreams<U>['relay']> | undefined, sent: Promise<unknown>[] | undefined): void {
    const retired = this.retired;
    this.retired = [];
    const close = (): void => { for (const u of retired) this.closeUpstream(u); };
    const waits: Promise<unknown>[] = sent ? [...sent] : [];
    if (r && typeof (r as Promise<unknown>).then === 'function') waits.push(r as Promise<unknown>);
    if (waits.length) void Promise.allSettled(waits).then(close);
    else close();
  }

  /** Sockets whose sends were refused (ECONNREFUSED): their sessions' backends refused, handled once out of the relay. */
  private flushRefused(): void {
    const refused = this.refused;
    this.refused = [];
    for (const u of new Set(refused)) this.routing.refusedOnSend(u);
  }

  /** Sends what the batch held back; returns the sends still being handed over (node:dgram). */
  private flushOutbox(): Promise<void>[] {
    const out = this.outbox;
    this.outbox = [];
    for (const s of this.unpin) if (s.mode === Mode.Single) s.mode = Mode.Direct;
    // Stryker disable next-line ArrayDeclaration: equivalent, a non-session in the list is never in Single mode: skipped
    this.unpin = [];
    // On the socket the datagram was meant for: a session that reached its count later in the batch
    // was retired, its socket still open until the batch is out (closeRetired runs after this).
    const pending: Promise<void>[] = [];
    for (const { s, u, data } of out) {
      if (u === undefined || (s.ended && !this.retired.includes(u))) continue;
      const p = this.opts.upstreams.send(u, data);
      if (p) pending.push(p);
    }
    return pending;
  }

  /** Backend of a client session, if one exists (for status and tests). */
  backendOf(listener: string, remote: Endpoint): RouteTarget | undefined {
    return this.index.get(listener, remote.address, remote.port)?.backend;
  }

  /** Close idle sessions; called by the sweeper. */
  sweep(): void {
    const now = this.now();
    const cutoff = now - this.opts.idleTimeoutMs;
    for (const s of [...this.sessions.values()]) {
      // An offloaded session's flow is read only when what is known of it would expire it: a
      // session seen since the cutoff cannot expire now, whatever it did since (reads cost ~0.7 µs).
      if (s.lastSeen <= cutoff && s.flow !== undefined) this.offload?.sync(s, now);
      if (s.lastSeen <= cutoff) { this.stats.expired++; this.end(s); }
    }
  }

  /** Ends a session now: its socket closes; the client's next datagram starts a new one. */
  end(s: Session<U>): void {
    if (s.ended) return;
    s.ended = true;
    this.endFlow(s);
    if (s.timer) { clearTimeout(s.timer); s.timer = undefined; }
    if (s.mode === Mode.Pending && s.held?.length) this.dropHeld(s, 'session-ended');
    // Stryker disable next-line ConditionalExpression: equivalent, a session is in the table (and its index) until its first end(); a second one returned above
    if (this.sessions.get(s.key) === s) {
      this.sessions.delete(s.key);
      // Stryker disable next-line ConditionalExpression: equivalent, see above; per-datagram sessions are not indexed, and deleting an absent entry does nothing
      if (this.index.get(s.listener, s.remote.address, s.remote.port) === s) this.index.delete(s.listener, s.remote.address, s.remote.port);
    }
    this.routing.release(s);
    if (s.upstream !== undefined) this.closeUpstream(s.upstream);
  }

  closeUpstream(u: U): void {
    const closed = this.opts.upstreams.close(u).catch(() => {});
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  dropHeld(s: Session<U>, reason: string): void {
    const n = s.held?.length ?? 0;
    s.held = undefined;
    s.heldBytes = 0;
    if (n === 0) return;
    this.stats.heldDropped += n;
    this.opts.countDrop(reason, n);
  }

  endClient(address: string, port: number): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.remote.port === port && s.remote.address === address) { this.end(s); n++; }
    }
    this.countEnded(n);
    return n;
  }

  endUpstreamPort(port: number): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.upstream !== undefined && this.opts.upstreams.localPort(s.upstream) === port) { this.end(s); n++; }
    }
    this.countEnded(n);
    return n;
  }

  private countEnded(n: number): void {
    if (n === 0) return;
    this.stats.ended += n;
    this.opts.countEvent('ended-by-control', n);
  }

  list(): SessionInfo[] {
    this.syncFlows();
    const now = this.now();
    return [...this.sessions.values()].map((s) => ({
      listener: s.listener, client: hostPort(s.remote), backend: s.backend?.label ?? null,
      state: s.mode === Mode.Pending ? 'routing' : 'open', ageMs: now - s.createdAt, packetsIn: s.requests, packetsOut: s.replies,
    }));
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const s of [...this.sessions.values()]) this.end(s);
    await Promise.all([...this.closing]);
    await this.opts.router.close?.();
  }

  private evictOldest(): void {
    // An offloaded session's recency is only known once its flow is read: a few of the oldest are.
    for (let i = 0; i < 8; i++) {
      const s = this.sessions.values().next().value;
      if (s === undefined || s.flow === undefined || !this.offload?.sync(s, this.now())) break;
    }
    const oldest = this.sessions.values().next().value;
    // Stryker disable next-line ConditionalExpression: equivalent, maxSessions is at least 1 (schema), so the table is not empty when it is full
    if (oldest) { this.stats.evicted++; this.end(oldest); }
  }
}

export function hostPort(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
