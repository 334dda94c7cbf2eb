/** The engine's counters: plain numbers for the listener to map onto metrics (`udpgw_wireguard_*_total`). */
import type { InnerDropReason } from './inner-packet.js';
import type { HandshakeFailure } from './noise.js';

/** Why a handshake message was refused. Each is also a `drops` key. */
export type HandshakeDropReason =
  | HandshakeFailure
  | 'bad-mac1' | 'under-load-cookie-sent' | 'rate-limited' | 'timestamp-replay' | 'initiation-flood'
  | 'unknown-receiver-index' | 'cookie-decrypt';

export type DropReason =
  | HandshakeDropReason
  | InnerDropReason
  | 'short-message' | 'unknown-type' | 'bad-length'
  | 'decrypt-failed' | 'replay' | 'keypair-expired' | 'allowed-ips'
  | 'unknown-peer-key' | 'no-endpoint' | 'queue-full' | 'handshake-timeout' | 'allowed-ips-outbound'
  | 'bad-inner-packet' | 'keys-expired';

/** Reasons a peer's handshake failed, for a `handshakes_failed_total{reason}` metric. */
export const HANDSHAKE_FAILURE_REASONS: readonly HandshakeDropReason[] = [
  'handshake-bad-ephemeral', 'handshake-decrypt', 'unknown-peer', 'bad-mac1', 'under-load-cookie-sent',
  'rate-limited', 'timestamp-replay', 'initiation-flood', 'unknown-receiver-index', 'cookie-decrypt',
];

export interface WireGuardCounters {
  initiationsReceived: number;
  responsesReceived: number;
  cookieRepliesReceived: number;
  transportReceived: number;
  initiationsSent: number;
  /** initiations sent again because no response came within REKEY_TIMEOUT */
  initiationRetransmits: number;
  responsesSent: number;
  cookieRepliesSent: number;
  handshakesCompleted: number;
  handshakesCompletedAsInitiator: number;
  handshakesCompletedAsResponder: number;
  /** handshakes given up after REKEY_ATTEMPT_TIME */
  handshakeTimeouts: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  datagramsDecrypted: number;
  bytesDecrypted: number;
  datagramsEncrypted: number;
  bytesEncrypted: number;
  /** inner UDP datagrams handed to the listener */
  delivered: number;
  /** inner packets held while a handshake runs */
  queued: number;
  drops: Record<string, number>;
}

export function createCounters(): WireGuardCounters {
  return {
    initiationsReceived: 0, responsesReceived: 0, cookieRepliesReceived: 0, transportReceived: 0,
    initiationsSent: 0, initiationRetransmits: 0, responsesSent: 0, cookieRepliesSent: 0,
    handshakesCompleted: 0, handshakesCompletedAsInitiator: 0, handshakesCompletedAsResponder: 0,
    handshakeTimeouts: 0, keepalivesSent: 0, keepalivesReceived: 0,
    datagramsDecrypted: 0, bytesDecrypted: 0, datagramsEncrypted: 0, bytesEncrypted: 0,
    delivered: 0, queued: 0, drops: {},
  };
}
