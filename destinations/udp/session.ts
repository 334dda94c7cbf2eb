/** One udp proxy session: its state, and the options every session of a destination shares. */
import type { Endpoint, OffloadedFlow, RouteTarget } from '../../gateway/plugin-kit.js';

/** How a session's datagrams travel. */
export const enum Mode {
  /** Open: each datagram goes out through the batch relay as it is (the hot path). */
  Direct = 0,
  /** The router is deciding: datagrams are held, bounded. */
  Pending = 1,
  /** Open, but each datagram is sent by itself (a PROXY header on every datagram). */
  Single = 2,
}

export interface Session<U> {
  readonly key: string;
  readonly listener: string;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  readonly createdAt: number;
  mode: Mode;
  upstream: U | undefined;
  backend: RouteTarget | undefined;
  lastSeen: number;
  /** When the session last moved to the end of the table (recency order, refreshed at most once a second). */
  reordered: number;
  /** Datagrams client → backend, and backend → client. */
  requests: number;
  replies: number;
  /** Held while the router decides (Pending), or kept for a failover replay until the backend answers. */
  held: Buffer[] | undefined;
  heldBytes: number;
  /** A route call is in flight. */
  deciding: boolean;
  /** More datagrams arrived while a route call was in flight (ask again after a noop). */
  heardSince: boolean;
  /** Backends this session failed on (failover). */
  failed: RouteTarget[];
  /** The next datagram to the backend is the first (a PROXY header goes on it). */
  first: boolean;
  /** The backend has answered at least once. */
  answered: boolean;
  lastReplyAt: number;
  connectTimeoutMs: number;
  inactivityTimeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  /** The router was told this session started on `backend` (and is told once when it ends). */
  started: boolean;
  ended: boolean;
  /** Flow offload: the listener's transport forwards the session's datagrams both ways itself. */
  flow: OffloadedFlow | undefined;
  /** The flow's counts already added to requests / replies. */
  flowIn: number;
  flowOut: number;
  /** No offload is asked for before this time (the last ask was refused). */
  offloadAfter: number;
}

export function newSession<U>(key: string, listener: string, remote: Endpoint, local: Endpoint, now: number): Session<U> {
  return {
    key, listener, remote, local, createdAt: now, mode: Mode.Pending, upstream: undefined, backend: undefined,
    lastSeen: now, reordered: now, requests: 0, replies: 0, held: undefined, heldBytes: 0, deciding: false, heardSince: false,
    failed: [], first: true, answered: false, lastReplyAt: now, connectTimeoutMs: 0, inactivityTimeoutMs: 0, timer: undefined, started: false, ended: false,
    flow: undefined, flowIn: 0, flowOut: 0, offloadAfter: 0,
  };
}

/**
 * Sessions by listener, client address and port, for the per-packet lookup: the strings are the
 * ones the listener hands over (the transport caches address strings, so their hashes are cached
 * too) and the port is a small integer, so a lookup allocates nothing, unlike a joined key string.
 */
export class SessionIndex<S> {
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

export interface SessionStats {
  created: number; expired: number; evicted: number; ended: number; endedByCount: number;
  repliesRelayed: number; repliesForeign: number; socketErrors: number;
  routeFailures: number; connectErrors: number; inactive: number; failovers: number; heldDropped: number;
}

/** What routing needs of the session table (sessions.ts). */
export interface SessionHost<U> {
  now(): number;
  /** One datagram to the session's backend, by itself (a PROXY header when one is due). */
  send(s: Session<U>, data: Buffer): void;
  end(s: Session<U>): void;
  dropHeld(s: Session<U>, reason: string): void;
  closeUpstream(u: U): void;
  /** Ends the session's flow offload, if any (its socket is about to change or close). */
  endFlow(s: Session<U>): void;
}
