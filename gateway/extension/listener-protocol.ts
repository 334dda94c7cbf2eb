/**
 * A listener protocol sits between a listener's socket and its pipeline: plain UDP has none;
 * WireGuard (listener-protocols/wireguard/) decapsulates what arrives and encapsulates what leaves.
 * The listener hands it the outer datagrams of each receive batch and gets back the inner datagrams
 * the pipeline sees — each with the identity the protocol authenticated (a peer key) — and every
 * send toward a client goes through `send`, so replies and out-of-band packets are encrypted to
 * the right peer transparently.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Datagram, Endpoint, InnerAddresses } from '../packet.js';

/** A datagram out of the protocol: address/port are the client's inner source (what tags carry). */
export interface ProtocolDatagram extends Datagram {
  /** The identity the protocol authenticated (WireGuard: the peer's public key, base64). */
  readonly peerKey: string;
  /** Where the encapsulated datagram came from. */
  readonly outer: Endpoint;
  readonly inner: InnerAddresses;
}

export interface ListenerProtocolContext {
  readonly listener: string;
  readonly logger: Logger;
  /** Send outer (encapsulated) datagrams from the listener's own socket. */
  sendOuter(datagrams: readonly Datagram[]): void;
  /** Directory relative paths (key files) resolve against. */
  readonly baseDir: string;
}

export interface ListenerProtocol {
  readonly type: string;
  /** Outer datagrams of one receive batch in; the inner datagrams for the pipeline out. Protocol
   *  messages (handshakes, keepalives) are handled inside; drops are counted inside. */
  receive(batch: readonly Datagram[], now: number): ProtocolDatagram[];
  /** An inner datagram toward a client, by its inner address (a reply by tag, a proxy reply) or by
   *  peer key (out of band). Returns a refusal reason, or undefined when it left (or was queued
   *  behind a handshake the protocol started). */
  send(to: Endpoint & { readonly peerKey?: string }, data: Buffer, now: number): string | undefined;
  /** Counters as plain numbers (name → value), read at scrape time; names end in _total. */
  counters(): Record<string, number>;
  status(now: number): Record<string, unknown>;
  close(): void;
}

export type ListenerProtocolFactory<S extends TSchema = TSchema> = (options: Static<S>, ctx: ListenerProtocolContext) => ListenerProtocol | Promise<ListenerProtocol>;

/** A listener protocol's manifest: type, options schema, lazy loader. */
export interface ListenerProtocolKind<S extends TSchema = TSchema> {
  readonly type: string;
  readonly options: S;
  load(): Promise<ListenerProtocolFactory<S>>;
}

export function defineListenerProtocolKind<S extends TSchema>(kind: ListenerProtocolKind<S>): ListenerProtocolKind<S> {
  return kind;
}
