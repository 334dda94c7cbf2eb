/**
 * How a session gets its backend and keeps it: asks the router on the session's first datagram,
 * holds datagrams (bounded in packets, bytes and time) while an answer is pending, applies the
 * answer (proxy, rewrite, reply, noop, close, drop), and watches the backend afterwards: connect
 * timeout and ICMP refusal, inactivity, each with the router's callback, a log line and an event
 * count, and failover to another backend with the held datagrams replayed.
 * A router that throws, rejects or outlives the hold time fails that session only, counted.
 */
import type { Logger } from 'pino';
import {
  isProxy, toBuffer, type Bytes, type ClientSender, type Packet, type ProxyDecision, type RouteDecision, type RoutedSession,
  type Router, type RouteTarget,
} from '../../gateway/plugin-kit.js';
import { Mode, newSession, type Session, type SessionHost, type SessionStats } from './session.js';
import type { Upstreams } from './upstream.js';

export interface HoldLimits {
  readonly maxPackets: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export interface RoutingOptions {
  readonly router: Router;
  readonly hold: HoldLimits;
  /** No datagram back within this long after the first one sent: the backend failed. 0: off. */
  readonly connectTimeoutMs: number;
  /** No datagram from the backend for this long: it went silent. 0: off. */
  readonly inactivityTimeoutMs: number;
  /** Other backends tried after a connect failure (the held datagrams replayed to each). 0: off. */
  readonly failover: number;
  /** A "host:port" answer to a target (may look a host name up). */
  readonly resolve: (text: string) => RouteTarget | Promise<RouteTarget>;
  /** The PROXY protocol v2 header of a session, and whether every datagram carries it. */
  readonly proxyHeader?: { readonly every: boolean; build(s: Session<unknown>): Buffer };
  readonly replies: boolean;
  readonly maxReplies: number;
  readonly clients: ClientSender;
  readonly logger: Logger;
  readonly upstreams: Upstreams<unknown>;
  readonly countDrop: (reason: string, n?: number) => void;
  readonly countEvent: (event: string, n?: number) => void;
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as { then?: unknown } | null)?.then === 'function';

export class SessionRouting<U> {
  private readonly router: Router;
  private readonly upstreams: Upstreams<U>;
  /** Datagrams sent before the backend first answers are kept for a replay elsewhere. */
  private readonly keep: boolean;
  /** The session whose first datagram is being routed inside the batch relay (start()). */
  private starting: Session<U> | undefined;
  /** The session of each upstream socket (a refusal reported by a send names the socket). */
  private readonly owners = new WeakMap<object, Session<U>>();

  constructor(private readonly opts: RoutingOptions, private readonly table: SessionHost<U>, private readonly stats: SessionStats) {
    this.router = opts.router;
    this.upstreams = opts.upstreams as Upstreams<U>;
    this.keep = opts.failover > 0 || opts.router.onConnectError !== undefined;
  }

  newSession(p: Packet, now: number, key = `${p.listener} ${p.remote.address} ${p.remote.port}`): Session<U> {
    return newSession<U>(key, p.listener, p.remote, p.local, now);
  }

  /**
   * A new session's first datagram: asks the router. Returns the session when the datagram can go
   * out in the batch being relayed as it is (the static router's answer, at once); else undefined.
   */
  start(s: Session<U>, data: Buffer, decided?: RouteDecision): Session<U> | undefined {
    s.requests = 1;
    s.held = [data];
    s.heldBytes = data.length;
    this.starting = s;
    try {
      if (decided) this.apply(s, decided);
      else this.decide(s);
    } finally { this.starting = undefined; }
    if (s.mode === Mode.Direct && s.held === FIRST_IN_BATCH) {
      s.held = this.keep ? [data] : undefined;
      s.heldBytes = this.keep ? data.length : 0;
      return s;
    }
    return undefined;
  }

  /** A datagram while the router decides: held within the limits, else dropped (counted). */
  hold(s: Session<U>, data: Buffer): void {
    const held = (s.held ??= []);
    const { maxPackets, maxBytes } = this.opts.hold;
    if (held.length >= maxPackets) { this.stats.heldDropped++; this.opts.countDrop('route-hold-packets'); return; }
    if (s.heldBytes + data.length > maxBytes) { this.stats.heldDropped++; this.opts.countDrop('route-hold-bytes'); return; }
    held.push(data);
    s.heldBytes += data.length;
    if (s.deciding) s.heardSince = true;
    else this.decide(s);
  }

  /** An open session's datagram kept for a failover replay until the backend first answers (bounded). */
  keepForReplay(s: Session<U>, data: Buffer): void {
    const held = s.held!;
    if (held.length >= this.opts.hold.maxPackets || s.heldBytes + data.length > this.opts.hold.maxBytes) return;
    held.push(data);
    s.heldBytes += data.length;
  }

  /** The bytes that go to the backend: with a PROXY v2 header on the first datagram, or on every one. */
  framed(s: Session<U>, data: Buffer): Buffer {
    const ph = this.opts.proxyHeader;
    if (!ph || !(ph.every || s.first)) { s.first = false; return data; }
    s.first = false;
    return Buffer.concat([ph.build(s as Session<unknown>), data]);
  }

  /** The session ended: the router hears of it. */
  release(s: Session<U>): void {
    if (!s.started) return;
    s.started = false;
    this.router.sessionEnded?.(routed(s));
  }

  private decide(s: Session<U>): void {
    s.deciding = true;
    s.heardSince = false;
    let answer: RouteDecision | Promise<RouteDecision>;
    try {
      answer = this.router.route({ listener: s.listener, remote: s.remote, local: s.local, data: s.held ?? [], failed: s.failed });
    } catch (err) {
      this.failed(s, err as Error);
      return;
    }
    if (!isPromise(answer)) { this.apply(s, answer); return; }
    this.armHoldTimer(s);
    answer.then((d) => this.apply(s, d), (err: Error) => this.failed(s, err));
  }

  private armHoldTimer(s: Session<U>): void {
    if (s.timer || s.ended) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (s.ended || s.mode !== Mode.Pending) return;
      this.stats.routeFailures++;
      this.opts.logger.warn({ client: s.remote, holdMs: this.opts.hold.timeoutMs }, 'no route decided within the hold time: held datagrams dropped');
      this.table.dropHeld(s, 'route-timeout');
      this.table.end(s);
    }, this.opts.hold.timeoutMs);
  }

  private failed(s: Session<U>, err: Error): void {
    if (s.ended) return;
    this.stats.routeFailures++;
    this.opts.countEvent('route-failed');
    this.opts.logger.warn({ err, client: s.remote, router: this.router.kind }, 'router failed for a session: its held datagrams are dropped');
    this.table.dropHeld(s, 'route-failed');
    this.table.end(s);
  }

  private apply(s: Session<U>, d: RouteDecision): void {
    if (s.ended) return;
    s.deciding = false;
    if (d === null || typeof d !== 'object') { this.failed(s, new Error(`router answered ${JSON.stringify(d)}: expected { remote }, { noop }, { close } or { drop }`)); return; }
    if ('noop' in d && d.noop) {
      if (s.heardSince) this.decide(s);
      else this.armHoldTimer(s);
      return;
    }
    if ('close' in d && d.close !== undefined && (d.close as unknown) !== false) {
      if (d.close !== true) this.opts.clients.sendToClient(s.listener, s.remote, toBuffer(d.close));
      this.table.dropHeld(s, 'route-close');
      this.table.end(s);
      return;
    }
    if ('drop' in d && typeof d.drop === 'string') {
      this.table.dropHeld(s, d.drop);
      this.table.end(s);
      return;
    }
    if (!isProxy(d)) { this.failed(s, new Error(`router answered ${JSON.stringify(d)}: expected { remote }, { noop }, { close } or { drop }`)); return; }
    let target: RouteTarget | Promise<RouteTarget>;
    try {
      target = typeof d.remote === 'string' ? this.opts.resolve(d.remote) : d.remote;
    } catch (err) { this.failed(s, err as Error); return; }
    if (!isPromise(target)) { this.connect(s, target, d); return; }
    s.deciding = true;
    this.armHoldTimer(s);
    target.then((t) => { s.deciding = false; if (!s.ended) this.connect(s, t, d); }, (err: Error) => this.failed(s, err));
  }

  /** Opens the session's socket to `target` and sends what is due: the answer's data, else what was held. */
  private connect(s: Session<U>, target: RouteTarget, d: ProxyDecision): void {
    if (d.reply !== undefined) this.opts.clients.sendToClient(s.listener, s.remote, toBuffer(d.reply));
    let upstream: U;
    try {
      upstream = this.upstreams.open(target, {
        reply: (data) => this.onReply(s, upstream, data),
        foreign: () => { this.stats.repliesForeign++; },
        error: (err) => this.onError(s, upstream, err),
      });
    } catch (err) { this.failed(s, err as Error); return; }
    if (s.timer) { clearTimeout(s.timer); s.timer = undefined; }
    this.owners.set(upstream as object, s);
    s.upstream = upstream;
    s.backend = target;
    s.first = true;
    s.answered = false;
    s.connectTimeoutMs = seconds(d.connectTimeout ?? d.connect_timeout) ?? this.opts.connectTimeoutMs;
    s.inactivityTimeoutMs = seconds(d.inactivityTimeout ?? d.inactivity_timeout) ?? this.opts.inactivityTimeoutMs;
    s.started = true;
    this.router.sessionStarted?.(routed(s));
    const toSend = d.data !== undefined ? list(d.data) : (s.held ?? []);
    const keep = this.keep;
    s.lastReplyAt = this.table.now();
    s.mode = this.opts.proxyHeader?.every ? Mode.Single : Mode.Direct;
    if (s.connectTimeoutMs > 0) this.armConnectTimer(s);
    if (s.inactivityTimeoutMs > 0) this.armInactivityTimer(s, s.inactivityTimeoutMs);
    // The static router's case: the one datagram held is the one being relayed, sent as it is.
    const plain = this.starting === s && s.mode === Mode.Direct && !this.opts.proxyHeader && d.data === undefined && s.held?.length === 1;
    if (plain) { s.first = false; s.held = FIRST_IN_BATCH; s.heldBytes = 0; return; }
    s.held = keep ? [...toSend] : undefined;
    s.heldBytes = keep ? toSend.reduce((n, b) => n + b.length, 0) : 0;
    for (const b of toSend) this.table.send(s, b);
  }

  private armConnectTimer(s: Session<U>): void {
    const u = s.upstream;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (!s.ended && !s.answered && s.upstream === u) this.connectFailed(s, 'timeout');
    }, s.connectTimeoutMs);
  }

  private armInactivityTimer(s: Session<U>, inMs: number): void {
    const u = s.upstream;
    const t = setTimeout(() => {
      if (s.ended || s.upstream !== u) return;
      const silentFor = this.table.now() - s.lastReplyAt;
      if (silentFor < s.inactivityTimeoutMs) { this.armInactivityTimer(s, s.inactivityTimeoutMs - silentFor); return; }
      this.inactive(s);
    }, inMs);
    t.unref();
  }

  private onReply(s: Session<U>, u: U, data: Buffer): void {
    if (s.ended || s.upstream !== u) return;
    // Past maxReplies the session is ending (next microtask): a reply read in the same batch as its
    // last one is not relayed, as it would not be once the socket closed.
    if (this.opts.maxReplies > 0 && s.replies >= this.opts.maxReplies) return;
    const now = this.table.now();
    s.lastSeen = now;
    s.lastReplyAt = now;
    s.replies++;
    if (!s.answered) {
      s.answered = true;
      if (s.mode !== Mode.Pending) { s.held = undefined; s.heldBytes = 0; }
      if (s.timer) { clearTimeout(s.timer); s.timer = undefined; }
    }
    if (this.opts.replies) {
      this.stats.repliesRelayed++;
      this.opts.clients.sendToClient(s.listener, s.remote, data);
    }
    if (this.opts.maxReplies > 0 && s.replies === this.opts.maxReplies) {
      this.stats.endedByCount++;
      queueMicrotask(() => this.table.end(s)); // not inside the socket's own read callback
    }
  }

  /** A send on `u` was refused with ECONNREFUSED: the same as the socket reporting it. */
  refusedOnSend(u: U): void {
    const s = this.owners.get(u as object);
    if (s) this.onError(s, u, Object.assign(new Error('send: ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  }

  private onError(s: Session<U>, u: U, err: Error): void {
    if (s.ended || s.upstream !== u) return;
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') { this.connectFailed(s, 'refused'); return; }
    this.stats.socketErrors++;
    this.opts.logger.debug({ err, backend: s.backend?.label }, 'upstream socket error');
  }

  /** The backend refused (ICMP port unreachable) or did not answer in time: callback, else failover, else end. */
  private connectFailed(s: Session<U>, why: 'refused' | 'timeout'): void {
    this.stats.connectErrors++;
    this.opts.countEvent(`connect-${why}`);
    const backend = s.backend!;
    this.opts.logger.warn({ backend: backend.label, client: s.remote, reason: why }, why === 'refused' ? 'backend refused the session (ICMP port unreachable)' : 'backend did not answer within the connect timeout');
    const info = routed(s);
    this.detach(s);
    s.failed.push(backend);
    this.callback(s, () => this.router.onConnectError?.(info), () => {
      if (s.failed.length <= this.opts.failover && s.held?.length) {
        this.stats.failovers++;
        this.opts.countEvent('failover');
        this.decide(s);
      } else {
        this.table.dropHeld(s, `connect-${why}`);
        this.table.end(s);
      }
    });
  }

  private inactive(s: Session<U>): void {
    this.stats.inactive++;
    this.opts.countEvent('inactive');
    this.opts.logger.info({ backend: s.backend?.label, client: s.remote, inactivityMs: s.inactivityTimeoutMs }, 'backend went silent: session inactive');
    const info = routed(s);
    this.callback(s, () => this.router.onInactivity?.(info), () => this.table.end(s), () => { this.detach(s); s.failed.push(info.backend); });
  }

  /** Runs a router callback; its decision (if any) is applied to the session, else `fallback` runs. */
  private callback(s: Session<U>, call: () => RouteDecision | void | Promise<RouteDecision | void>, fallback: () => void, before?: () => void): void {
    // While the callback runs, datagrams of a detached session are held, not routed a second time.
    const wasDeciding = s.deciding;
    s.deciding = true;
    const settle = (d: RouteDecision | void): void => {
      if (s.ended) return;
      s.deciding = wasDeciding;
      if (d === undefined || d === null) { fallback(); return; }
      before?.();
      if (s.mode !== Mode.Pending) this.detach(s);
      this.apply(s, d);
    };
    try {
      const r = call();
      if (isPromise(r)) r.then(settle, (err: Error) => this.failed(s, err));
      else settle(r);
    } catch (err) { this.failed(s, err as Error); }
  }

  /** Leaves the current backend: its socket closes, the session waits for a new decision. */
  private detach(s: Session<U>): void {
    if (s.timer) { clearTimeout(s.timer); s.timer = undefined; }
    this.table.endFlow(s);
    this.release(s);
    if (s.upstream !== undefined) this.table.closeUpstream(s.upstream);
    s.upstream = undefined;
    s.mode = Mode.Pending;
    s.deciding = false;
  }
}

/** Marks "the datagram being relayed goes in the batch" between connect() and start(). */
const FIRST_IN_BATCH: Buffer[] = [];

function routed(s: Session<unknown>): RoutedSession {
  return { listener: s.listener, remote: s.remote, backend: s.backend! };
}

function seconds(v: number | undefined): number | undefined {
  return typeof v === 'number' && v > 0 ? Math.round(v * 1000) : undefined;
}

function list(data: Bytes | readonly Bytes[]): Buffer[] {
  return Array.isArray(data) ? (data as readonly Bytes[]).map(toBuffer) : [toBuffer(data as Bytes)];
}
