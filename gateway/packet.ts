/** The unit that moves through the pipeline: one received datagram plus what the gateway knows of it. */

/** How Data is written in events: the four byte encodings, or a message formatter plugged in
 *  (formatters/<name>/, registered as a data formatter: `coap` turns each datagram into its parsed
 *  CoAP message). */
export type Formatter = 'base64' | 'hex' | 'utf8' | 'ascii' | 'coap';
export const FORMATTERS: readonly Formatter[] = ['base64', 'hex', 'utf8', 'ascii', 'coap'];

export interface Endpoint {
  /** Textual IP address (IPv4 dotted quad or IPv6, no brackets, no zone for globals). */
  readonly address: string;
  readonly port: number;
}

export interface Packet {
  /** Authenticated, opaque, URL-safe tag (see gateway/tag.ts). May be computed on first read
   *  (a getter), so copy it explicitly rather than with object spread. */
  readonly tag: string;
  /** Name of the listener that received the packet (the event's Local.Domain). */
  readonly listener: string;
  readonly remote: Endpoint;
  /** Address and port the listener is bound to. */
  readonly local: Endpoint;
  /** Receive time, ms since the epoch. */
  readonly receivedAt: number;
  readonly data: Buffer;
  /** How Data is encoded in JSON events for this listener. */
  readonly formatter: Formatter;
  /** A listener protocol's authenticated identity of the client (WireGuard: the peer's public key). */
  readonly peerKey?: string;
  /** Where an encapsulated datagram came from (the client's outer address), when a protocol decapsulated it. */
  readonly outer?: Endpoint;
  /** The inner datagram's addresses, when a protocol decapsulated it (the event's `Inner`). */
  readonly inner?: InnerAddresses;
  /** Extra keys of this packet's event message (a dead letter's Destination, Reason, FailedAt). */
  readonly annotations?: Readonly<Record<string, string | number | boolean>>;
}

/** Addresses of a datagram carried inside a tunnel. */
export interface InnerAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/** A datagram as a transport delivers it, before tagging. */
export interface Datagram {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
}

/** A reply produced by a request/response destination, addressed by tag. */
export interface Reply {
  readonly tag: string;
  readonly data: Buffer;
}
