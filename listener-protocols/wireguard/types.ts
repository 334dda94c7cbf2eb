/** Shapes the WireGuard engine takes and returns. */

/** A UDP address on the outside of the tunnel. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A UDP datagram inside the tunnel: decrypted from a peer, or to be encrypted for one. */
export interface InnerUdpPacket {
  /** Inner source address (IPv4 dotted or IPv6 text). */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface PeerConfig {
  /** base64, as `wg pubkey` writes it */
  publicKey: string;
  /** CIDRs whose inner source addresses this peer may use (cryptokey routing, whitepaper §2). */
  allowedIPs: readonly string[];
  /** base64, as `wg genpsk` writes it; all zeros when absent */
  presharedKey?: string;
  name?: string;
  /** Where to send before the peer has sent us anything (for gateway-initiated handshakes). */
  endpoint?: Endpoint;
  /** Seconds; send a keepalive after this much quiet (wg's PersistentKeepalive). 0 or absent: off. */
  persistentKeepalive?: number;
}

export type WireGuardAction =
  /** Send `data` as one UDP datagram to `to` from the listener's socket. */
  | { type: 'send'; to: Endpoint; data: Buffer }
  /** An inner UDP datagram from peer `peer` (base64 public key), which arrived from `from`. */
  | { type: 'deliver'; peer: string; from: Endpoint; packet: InnerUdpPacket }
  /** Something was not delivered or not sent; `reason` is also counted. */
  | { type: 'drop'; reason: string; peer?: string };
