/**
 * The session table's side of flow offload: an open session asks its listener to forward its
 * datagrams both ways in the transport (ClientSender.offload), and what the flow forwarded is taken
 * into the session's counts and times whenever the table needs them (idle sweep, eviction, lists,
 * status). The transport's side: net/native-flow.ts and native/udp_flow.c.
 */
import { constants } from 'node:os';
import type { OffloadedFlow } from '../../gateway/plugin-kit.js';
import type { Session, SessionStats } from './session.js';

/** After a refused ask, a session asks again no sooner than this (a backlog may have drained). */
const RETRY_MS = 1_000;
const ECONNREFUSED = constants.errno.ECONNREFUSED;

/** What the offload needs of the session table. */
export interface OffloadHost<U> {
  readonly stats: SessionStats;
  /** PROXY headers are configured: a session asks only once its header has gone. */
  readonly proxyHeader: boolean;
  /** The session's socket was refused (ECONNREFUSED): handled as a refused send. */
  refused(u: U): void;
  /** The session was active: to the recent end of the table (eviction order). */
  touched(s: Session<U>, now: number): void;
}

export class SessionOffload<U> {
  constructor(private readonly ask: (s: Session<U>) => OffloadedFlow | undefined, private readonly host: OffloadHost<U>) {}

  /**
   * An open session's datagram reached JS (called where it may ask: see `due`). Offloaded: either it
   * was read in the batch that asked for the offload (the flow goes on), or the transport handed it
   * back and ended the flow (a backlog, a refusal): its counts are taken and the session goes on
   * in JS. Not offloaded: ask, once the session needs nothing per datagram (no timer watching its
   * replies, no PROXY header still due).
   */
  check(s: Session<U>, now: number): void {
    if (s.flow !== undefined) {
      const { active, errno } = s.flow.read();
      if (active) return;
      this.end(s, now);
      s.offloadAfter = now + RETRY_MS;
      if (errno === ECONNREFUSED && s.upstream !== undefined) this.host.refused(s.upstream);
      return;
    }
    if (s.inactivityTimeoutMs > 0 || (s.connectTimeoutMs > 0 && !s.answered) || (this.host.proxyHeader && s.first)) return;
    const flow = this.ask(s);
    if (flow === undefined) { s.offloadAfter = now + RETRY_MS; return; }
    s.flow = flow;
    s.flowIn = 0;
    s.flowOut = 0;
  }

  /** Whether `check` has anything to do for this datagram (the hot path's test). */
  static due<U>(s: Session<U>, now: number): boolean { return s.flow !== undefined || now >= s.offloadAfter; }

  /**
   * Adds what the session's flow forwarded since the last look to its counts and times (requests,
   * replies, last seen, last reply). True when it forwarded anything since (the session was then
   * moved to the recent end of the table).
   */
  sync(s: Session<U>, now: number): boolean {
    const r = s.flow!.read();
    const dIn = r.packetsIn - s.flowIn, dOut = r.packetsOut - s.flowOut;
    if (dIn <= 0 && dOut <= 0) return false;
    s.flowIn = r.packetsIn;
    s.flowOut = r.packetsOut;
    if (dIn > 0) { s.requests += dIn; s.lastSeen = Math.max(s.lastSeen, now - r.idleInMs); }
    if (dOut > 0) {
      s.replies += dOut;
      this.host.stats.repliesRelayed += dOut;
      s.lastReplyAt = Math.max(s.lastReplyAt, now - r.idleOutMs);
      s.lastSeen = Math.max(s.lastSeen, s.lastReplyAt);
      s.answered = true;
    }
    this.host.touched(s, now);
    return true;
  }

  /** Ends the session's flow, its counts taken first. */
  end(s: Session<U>, now: number): void {
    if (s.flow === undefined) return;
    this.sync(s, now);
    s.flow.end();
    s.flow = undefined;
  }

  /** Sessions whose flow is offloaded now. */
  static count<U>(sessions: Iterable<Session<U>>): number {
    let n = 0;
    for (const s of sessions) if (s.flow !== undefined && s.flow.read().active) n++;
    return n;
  }
}
