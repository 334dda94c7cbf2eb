/**
 * A WireGuard protocol engine without I/O: it takes datagrams, the time and send requests, and
 * returns actions (datagrams to send, inner UDP datagrams to deliver, drops with a reason).
 * Timers run when the caller calls `tick(now)` (every 100–250 ms is plenty: the shortest timer
 * is REKEY_TIMEOUT, 5 s). `now` is wall-clock milliseconds (Date.now()): it also makes the
 * TAI64N timestamps of the initiations we send.
 */
import { randomBytes } from 'node:crypto';
import { createAllowedIps } from './allowed-ips.js';
import { DEFAULT_LIMITS, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT, TRANSPORT, type WireGuardLimits } from './constants.js';
import { CookieChecker } from './cookie.js';
import { generateEphemeral, x25519PrivateKey } from './crypto.js';
import { drop, sendingKeypair, type EngineCore } from './core.js';
import { createCounters, type WireGuardCounters } from './counters.js';
import { handleCookieReply, handleInitiation, handleResponse, HANDSHAKE_SIZES, sendInitiation } from './handshake-flow.js';
import { buildInnerPacket, swapped } from './inner-packet.js';
import { decodeKey, encodeKey } from './keys.js';
import { LoadMonitor, SourceRateLimiter } from './load.js';
import { createLocalIdentity, createPeerIdentity } from './noise.js';
import { createPeerState, type PeerState } from './peer.js';
import { tickPeer } from './timers.js';
import { handleTransport, sendPlaintext } from './transport-flow.js';
import type { Endpoint, InnerUdpPacket, PeerConfig, WireGuardAction } from './types.js';

export interface WireGuardEngineOptions {
  /** base64, as `wg genkey` writes it */
  privateKey: string;
  peers: readonly PeerConfig[];
  /** Override protocol timers and limits (tests). */
  limits?: Partial<WireGuardLimits>;
  /** The caller's "under load" signal; by default: more than `underLoadHandshakesPerSecond` handshake messages in a second. */
  underLoad?: (now: number) => boolean;
  underLoadHandshakesPerSecond?: number;
  /** Inner packets held per peer while a handshake runs (wireguard-go QueueStagedSize: 128). */
  queueLimit?: number;
  /** Random bytes (indices, ephemeral keys, cookie secret, nonces); crypto.randomBytes unless a test fixes them. */
  random?: (n: number) => Buffer;
}

export interface PeerStatus {
  publicKey: string;
  name?: string;
  endpoint?: Endpoint;
  /** a session we can send on now */
  hasSession: boolean;
  lastHandshakeAt?: number;
  rxBytes: number;
  txBytes: number;
  queued: number;
}

function createPeers(core: EngineCore, peers: readonly PeerConfig[]): void {
  peers.forEach((p, i) => {
    const what = `peers[${i}]${p.name ? ` (${p.name})` : ''}`;
    const publicKey = decodeKey(p.publicKey, `${what}.publicKey`);
    const key = encodeKey(publicKey);
    if (core.peersByKey.has(key)) throw new Error(`${what}.publicKey appears twice`);
    if (publicKey.equals(core.local.publicKey)) throw new Error(`${what}.publicKey is the listener's own key`);
    const psk = p.presharedKey === undefined ? undefined : decodeKey(p.presharedKey, `${what}.presharedKey`);
    const identity = createPeerIdentity(core.local, publicKey, psk);
    const allowed = createAllowedIps(p.allowedIPs, `${what}.allowedIPs`);
    core.peersByKey.set(key, createPeerState(key, identity, allowed, p));
  });
}

export class WireGuardEngine {
  readonly publicKey: string;
  private readonly core: EngineCore;

  /** Throws a clear error for a bad key, CIDR or duplicate peer. */
  constructor(options: WireGuardEngineOptions) {
    const random = options.random ?? randomBytes;
    // with the caller's randomness (known-answer tests), ephemerals are made from it too
    const newEphemeral = options.random ? () => x25519PrivateKey(random(32)) : generateEphemeral;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const local = createLocalIdentity(decodeKey(options.privateKey, 'privateKey'));
    this.core = {
      local, limits, random, newEphemeral,
      peersByKey: new Map(),
      indices: new Map(),
      counters: createCounters(),
      cookies: new CookieChecker(local.cookieKey, random, limits.cookieRefreshTime),
      load: new LoadMonitor(options.underLoadHandshakesPerSecond ?? 1_000, options.underLoad),
      rateLimiter: new SourceRateLimiter(),
      queueLimit: options.queueLimit ?? 128,
    };
    createPeers(this.core, options.peers);
    this.publicKey = encodeKey(local.publicKey);
  }

  /** One datagram from the outside. */
  receive(datagram: Buffer, from: Endpoint, now: number): WireGuardAction[] {
    const out: WireGuardAction[] = [];
    const core = this.core;
    if (datagram.length < 4) {
      drop(core, out, 'short-message');
      return out;
    }
    const type = datagram.readUInt32LE(0); // one type byte and three zero bytes
    const size = type === MESSAGE_INITIATION ? HANDSHAKE_SIZES.initiation
      : type === MESSAGE_RESPONSE ? HANDSHAKE_SIZES.response
      : type === MESSAGE_COOKIE_REPLY ? HANDSHAKE_SIZES.cookieReply : undefined;
    if (type === MESSAGE_TRANSPORT) {
      if (datagram.length < TRANSPORT.minSize) drop(core, out, 'bad-length');
      else handleTransport(core, datagram, from, now, out);
    } else if (size === undefined) drop(core, out, 'unknown-type');
    else if (datagram.length !== size) drop(core, out, 'bad-length');
    else if (type === MESSAGE_INITIATION) handleInitiation(core, datagram, from, now, out);
    else if (type === MESSAGE_RESPONSE) handleResponse(core, datagram, from, now, out);
    else handleCookieReply(core, datagram, now, out);
    return out;
  }

  /** Encrypt an inner UDP datagram to a peer; queued behind a handshake when there is no session. */
  sendUdp(peerKey: string, packet: InnerUdpPacket, now: number): WireGuardAction[] {
    const out: WireGuardAction[] = [];
    const peer = this.peer(peerKey, out);
    if (!peer) return out;
    const ip = buildInnerPacket(packet);
    if (!ip) drop(this.core, out, 'bad-inner-packet', peer);
    else if (!peer.allowed(packet.dst)) drop(this.core, out, 'allowed-ips-outbound', peer);
    else sendPlaintext(this.core, peer, ip, now, out);
    return out;
  }

  /** Reply to a delivered datagram: the same peer, inner addresses and ports swapped. */
  reply(delivered: { peer: string; packet: InnerUdpPacket }, payload: Buffer, now: number): WireGuardAction[] {
    return this.sendUdp(delivered.peer, swapped(delivered.packet, payload), now);
  }

  /** Start a handshake now (at most one per REKEY_TIMEOUT), e.g. before an out-of-band send. */
  initiateHandshake(peerKey: string, now: number): WireGuardAction[] {
    const out: WireGuardAction[] = [];
    const peer = this.peer(peerKey, out);
    if (peer && !peer.endpoint) drop(this.core, out, 'no-endpoint', peer);
    else if (peer) sendInitiation(this.core, peer, now, false, out);
    return out;
  }

  /** Run due timers: handshake retransmits and timeouts, keepalives, rekeys, key expiry. */
  tick(now: number): WireGuardAction[] {
    const out: WireGuardAction[] = [];
    for (const peer of this.core.peersByKey.values()) tickPeer(this.core, peer, now, out);
    this.core.rateLimiter.sweep(now);
    return out;
  }

  /** Force (true/false) or release (undefined) the under-load state. */
  setUnderLoad(value: boolean | undefined): void {
    this.core.load.forced = value;
  }

  /** A snapshot of the counters. */
  counters(): WireGuardCounters {
    return { ...this.core.counters, drops: { ...this.core.counters.drops } };
  }

  hasSession(peerKey: string, now: number): boolean {
    const peer = this.core.peersByKey.get(peerKey);
    return peer !== undefined && sendingKeypair(this.core, peer, now) !== undefined;
  }

  peers(now: number): PeerStatus[] {
    return [...this.core.peersByKey.values()].map((p) => ({
      publicKey: p.key, name: p.name, endpoint: p.endpoint ? { ...p.endpoint } : undefined,
      hasSession: sendingKeypair(this.core, p, now) !== undefined, lastHandshakeAt: p.lastHandshakeAt,
      rxBytes: p.rxBytes, txBytes: p.txBytes, queued: p.queue.length,
    }));
  }

  private peer(peerKey: string, out: WireGuardAction[]): PeerState | undefined {
    const peer = this.core.peersByKey.get(peerKey);
    if (!peer) drop(this.core, out, 'unknown-peer-key');
    return peer;
  }
}
