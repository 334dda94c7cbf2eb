/**
 * What the net layer's upstream sockets (a socket per udp proxy session, connected to one peer)
 * have in common: the peer they connect to and what they report. Two kinds behave the same:
 * native-upstream-sockets.ts (the addon, one sendmmsg per socket per batch) and
 * dgram-upstream-sockets.ts (node:dgram, one send per datagram).
 */

/** The peer an upstream socket connects to: a numeric address (resolved before). */
export interface UpstreamPeer {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** What an upstream socket reports to its owner. */
export interface UpstreamSocketHooks {
  /** A datagram from the peer. */
  reply(data: Buffer): void;
  /** A datagram from anyone else (dgram only: a connected native socket never sees one). */
  foreign(): void;
  error(err: Error): void;
}
