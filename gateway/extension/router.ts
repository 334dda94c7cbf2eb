/**
 * The router: who decides a udp proxy session's backend (routers/<name>/). The `udp` destination
 * asks its router once, when a client's session starts (and again on failover); every later
 * datagram of the session goes to the backend decided then, without the router.
 *
 * A router answers as ProxyMachine's routing function does:
 *   { remote }                 proxy there, replaying the datagrams held so far
 *   { remote, data }           send `data` instead of what was held
 *   { remote, data, reply }    and answer the client with `reply` first
 *   { noop: true }             hold, and ask again when the client sends more
 *   { close: true | bytes }    end the session (answering the client with the bytes first)
 *   { drop: reason }           drop what was held, counted under `reason`; the next datagram asks again
 * `remote` and `{ remote }` may carry connectTimeout / inactivityTimeout (seconds; the snake_case
 * spellings connect_timeout / inactivity_timeout are accepted too).
 * An answer may come back at once (the static router: nothing allocated per datagram) or as a
 * promise (a Redis lookup, a user's function): the destination holds the session's datagrams,
 * bounded, while it waits, and never stalls anything else.
 */
import type { Logger } from 'pino';
import type { TSchema, Static } from '@sinclair/typebox';
import type { Endpoint } from '../packet.js';

/** A backend, resolved: a numeric address and its label as configured ("host:port"). */
export interface RouteTarget {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly label: string;
}

export interface RouteRequest {
  readonly listener: string;
  /** The client, as the listener sees it. */
  readonly remote: Endpoint;
  /** The listener's bound address. */
  readonly local: Endpoint;
  /** The datagrams received from this client and held so far, oldest first (at least one). */
  readonly data: readonly Buffer[];
  /** Backends this session already failed on (connect timeout, refusal, silence): empty at first. */
  readonly failed: readonly RouteTarget[];
}

export type Bytes = Buffer | Uint8Array | string;

export interface ProxyDecision {
  /** A resolved target, or "host:port" / "[v6]:port" text (resolved by the destination). */
  readonly remote: RouteTarget | string;
  /** Sent to the backend instead of the held datagrams (one datagram, or several in order). */
  readonly data?: Bytes | readonly Bytes[];
  /** Sent to the client before anything else. */
  readonly reply?: Bytes;
  /** Seconds without a datagram back after the first one sent: the backend failed. */
  readonly connectTimeout?: number;
  readonly connect_timeout?: number;
  /** Seconds without a datagram from the backend during the session: it went silent. */
  readonly inactivityTimeout?: number;
  readonly inactivity_timeout?: number;
}

export type RouteDecision =
  | ProxyDecision
  | { readonly noop: true }
  | { readonly close: true | Bytes }
  | { readonly drop: string };

/** A session the router hears about (start, end, failures). */
export interface RoutedSession {
  readonly listener: string;
  readonly remote: Endpoint;
  readonly backend: RouteTarget;
}

export interface Router {
  readonly kind: string;
  /** A new session's backend. May throw or reject: a counted failure for that session, never a crash. */
  route(req: RouteRequest): RouteDecision | Promise<RouteDecision>;
  /** A backend refused (ICMP port unreachable) or did not answer within the connect timeout.
   *  An answer (e.g. `{ remote }` elsewhere) replaces the default (failover when enabled, else end). */
  onConnectError?(session: RoutedSession): RouteDecision | void | Promise<RouteDecision | void>;
  /** A backend went silent past the inactivity timeout (default: end the session). */
  onInactivity?(session: RoutedSession): RouteDecision | void | Promise<RouteDecision | void>;
  /** Session bookkeeping (least-sessions balancing). Called synchronously. */
  sessionStarted?(s: RoutedSession): void;
  sessionEnded?(s: RoutedSession): void;
  close?(): Promise<void>;
  status?(): Record<string, unknown>;
}

/** Ending sessions from outside (a Redis disconnect message, the admin API). */
export interface SessionControl {
  /** Ends the sessions of a client address and port (every listener); returns how many ended. */
  endClient(address: string, port: number): number;
  /** Ends the session whose upstream socket has this local port; returns how many ended. */
  endUpstreamPort(port: number): number;
}

export interface RouterContext {
  readonly logger: Logger;
  /** Directory against which relative paths in the config are resolved. */
  readonly baseDir: string;
  /** The destination's name (for logs and one subscription per process). */
  readonly destination: string;
  /** The destination's own `backends`, resolved (the default pool; may be empty). */
  readonly backends: readonly RouteTarget[];
  /** Resolves "host:port" texts (a host name once, to its first address); throws listing every problem. */
  resolve(list: readonly string[]): Promise<RouteTarget[]>;
  /** Ends sessions of this destination. */
  readonly sessions: SessionControl;
  /** Counts a drop under a reason (udpgw_drops_total). */
  countDrop(reason: string, n?: number): void;
}

export type RouterFactory<S extends TSchema = TSchema> =
  (options: Static<S>, ctx: RouterContext) => Router | Promise<Router>;

/** A router's manifest (routers/<name>/manifest.ts): its options and its lazily loaded factory. */
export interface RouterKind<S extends TSchema = TSchema> {
  readonly type: string;
  /** TypeBox schema of the router's keys besides `type`. */
  readonly options: S;
  load(): Promise<RouterFactory<S>>;
}

export function defineRouterKind<S extends TSchema>(kind: RouterKind<S>): RouterKind<S> {
  return kind;
}

export function isProxy(d: RouteDecision): d is ProxyDecision {
  return (d as ProxyDecision).remote !== undefined;
}

/** Bytes of an answer's data or reply (a string is UTF-8). */
export function toBuffer(b: Bytes): Buffer {
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
