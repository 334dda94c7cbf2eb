/** Per-peer state: identity, endpoint, handshake in flight, the three keypair slots, timers and the send queue. */
import { emptyCookieJar, type CookieJar } from './cookie.js';
import type { Keypair } from './keypair.js';
import type { HandshakeSecrets, PeerIdentity } from './noise.js';
import type { Endpoint } from './types.js';

export interface PeerTimers {
  /** resend the initiation (REKEY_TIMEOUT + jitter after the last one) */
  retransmitAt?: number;
  /** send a keepalive: data came in and we have sent nothing back (KEEPALIVE_TIMEOUT) */
  sendKeepaliveAt?: number;
  needAnotherKeepalive: boolean;
  /** start a handshake: we sent data and heard nothing for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT */
  newHandshakeAt?: number;
  /** forget all keys: 3 × REJECT_AFTER_TIME after the last session was derived */
  zeroKeysAt?: number;
  persistentKeepaliveAt?: number;
}

export interface PeerState {
  key: string;
  name?: string;
  identity: PeerIdentity;
  allowed: (address: string) => boolean;
  endpoint?: Endpoint;
  persistentKeepalive: number;
  handshake: {
    /** our initiation in flight: its sender index and secrets */
    localIndex?: number;
    secrets?: HandshakeSecrets;
    lastSentAt: number;
    attempts: number;
    /** newest TAI64N timestamp we accepted from this peer */
    lastTimestamp?: Buffer;
    lastConsumedAt: number;
    /** the newest TAI64N we sent: each initiation must carry a later one */
    lastTimestampSent?: Buffer;
    sentLastMinuteHandshake: boolean;
  };
  cookie: CookieJar;
  current?: Keypair;
  previous?: Keypair;
  /** responder's keypair until the initiator's first transport message confirms it */
  next?: Keypair;
  timers: PeerTimers;
  queue: Buffer[];
  lastHandshakeAt?: number;
  rxBytes: number;
  txBytes: number;
}

export function createPeerState(key: string, identity: PeerIdentity, allowed: (a: string) => boolean, opts: { name?: string; endpoint?: Endpoint; persistentKeepalive?: number }): PeerState {
  return {
    key, identity, allowed, name: opts.name,
    endpoint: opts.endpoint ? { ...opts.endpoint } : undefined,
    persistentKeepalive: (opts.persistentKeepalive ?? 0) * 1000,
    handshake: { lastSentAt: -Infinity, attempts: 0, lastConsumedAt: -Infinity, sentLastMinuteHandshake: false },
    cookie: emptyCookieJar(),
    timers: { needAnotherKeepalive: false },
    queue: [],
    rxBytes: 0,
    txBytes: 0,
  };
}
