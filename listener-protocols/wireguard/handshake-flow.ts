/** Handshake messages in and out: initiation, response, cookie reply (whitepaper §5.4.2–§5.4.4, §5.4.7). */
import { COOKIE_REPLY, INITIATION, RESPONSE } from './constants.js';
import { addMacs, consumeCookieReply, validMac1 } from './cookie.js';
import {
  clearHandshake, drop, installKeypair, jitter, newIndex, onAuthenticatedReceived, onAuthenticatedSent,
  onAuthenticatedTraversal, onHandshakeComplete, onSessionDerived, type EngineCore,
} from './core.js';
import { createKeypair } from './keypair.js';
import { consumeInitiation, consumeResponse, createInitiation, createResponse, type PeerIdentity } from './noise.js';
import type { PeerState } from './peer.js';
import { isAfter, tai64n } from './tai64n.js';
import { flushQueue } from './transport-flow.js';
import type { Endpoint, WireGuardAction } from './types.js';

/** A TAI64N later than any this peer has had from us, even if the clock stood still or stepped back. */
function nextTimestamp(peer: PeerState, now: number): Buffer {
  let ts = tai64n(now);
  const last = peer.handshake.lastTimestampSent;
  if (last && !isAfter(ts, last)) {
    ts = Buffer.from(last);
    ts.writeUInt32BE((ts.readUInt32BE(8) + 0x0100_0000) >>> 0, 8); // next whitened step
    if (ts.readUInt32BE(8) >= 1e9) { ts.writeBigUInt64BE(ts.readBigUInt64BE(0) + 1n, 0); ts.writeUInt32BE(0, 8); }
  }
  peer.handshake.lastTimestampSent = ts;
  return ts;
}

/**
 * Send a handshake initiation to the peer's endpoint. Not a retry: at most one per REKEY_TIMEOUT
 * (whitepaper §6.2 "Handshake Initiation Retransmission"; wireguard-go SendHandshakeInitiation).
 */
export function sendInitiation(core: EngineCore, peer: PeerState, now: number, isRetry: boolean, out: WireGuardAction[]): void {
  if (!isRetry) {
    if (now - peer.handshake.lastSentAt < core.limits.rekeyTimeout) return;
    peer.handshake.attempts = 0;
  }
  if (!peer.endpoint) return;
  clearHandshake(core, peer);
  const localIndex = newIndex(core, { peer });
  const { message, secrets } = createInitiation(core.local, peer.identity, localIndex, core.newEphemeral(), nextTimestamp(peer, now));
  addMacs(message, peer.identity.mac1Key, peer.cookie, now, core.limits.cookieRefreshTime);
  peer.handshake.localIndex = localIndex;
  peer.handshake.secrets = secrets;
  peer.handshake.lastSentAt = now;
  core.counters.initiationsSent++;
  if (isRetry) core.counters.initiationRetransmits++;
  out.push({ type: 'send', to: peer.endpoint, data: message });
  onAuthenticatedTraversal(peer, now);
  onAuthenticatedSent(peer);
  peer.timers.retransmitAt = now + core.limits.rekeyTimeout + jitter();
}

/**
 * mac1 always; under load, mac2 or a cookie reply, then the per-source rate limit
 * (whitepaper §5.3). True when the message may cost us a DH.
 */
function admit(core: EngineCore, message: Buffer, from: Endpoint, now: number, out: WireGuardAction[]): boolean {
  if (!validMac1(message, core.local.mac1Key)) {
    drop(core, out, 'bad-mac1');
    return false;
  }
  if (!core.load.handshakeSeen(now)) return true;
  if (!core.cookies.validMac2(message, from, now)) {
    out.push({ type: 'send', to: from, data: core.cookies.reply(message, from, now) });
    core.counters.cookieRepliesSent++;
    drop(core, out, 'under-load-cookie-sent');
    return false;
  }
  if (!core.rateLimiter.allow(from.address, now)) {
    drop(core, out, 'rate-limited');
    return false;
  }
  return true;
}

export function handleInitiation(core: EngineCore, message: Buffer, from: Endpoint, now: number, out: WireGuardAction[]): void {
  core.counters.initiationsReceived++;
  if (!admit(core, message, from, now, out)) return;
  const lookup = (key: Buffer): PeerIdentity | undefined => core.peersByKey.get(key.toString('base64'))?.identity;
  const consumed = consumeInitiation(core.local, message, lookup);
  if (!consumed.ok) return drop(core, out, consumed.reason);
  const peer = core.peersByKey.get(consumed.peer.publicKey.toString('base64'))!;
  if (!isAfter(consumed.timestamp, peer.handshake.lastTimestamp)) return drop(core, out, 'timestamp-replay', peer);
  if (now - peer.handshake.lastConsumedAt <= core.limits.handshakeInitiationRate) return drop(core, out, 'initiation-flood', peer);
  peer.handshake.lastTimestamp = consumed.timestamp;
  peer.handshake.lastConsumedAt = now;
  peer.endpoint = { ...from };
  onAuthenticatedTraversal(peer, now);
  onAuthenticatedReceived(peer);
  sendResponse(core, peer, consumed.senderIndex, consumed.secrets, now, out);
}

function sendResponse(core: EngineCore, peer: PeerState, remoteIndex: number, secrets: Parameters<typeof createResponse>[1], now: number, out: WireGuardAction[]): void {
  clearHandshake(core, peer); // a simultaneous initiation of ours is superseded
  const entry = { peer } as { peer: PeerState; keypair?: ReturnType<typeof createKeypair> };
  const localIndex = newIndex(core, entry);
  const response = createResponse(peer.identity, secrets, localIndex, remoteIndex, core.newEphemeral());
  if (!response) {
    core.indices.delete(localIndex);
    return drop(core, out, 'handshake-bad-ephemeral', peer);
  }
  addMacs(response.message, peer.identity.mac1Key, peer.cookie, now, core.limits.cookieRefreshTime);
  entry.keypair = createKeypair(response.chainKey, false, localIndex, remoteIndex, now);
  installKeypair(core, peer, entry.keypair);
  core.counters.responsesSent++;
  core.counters.handshakesCompleted++;
  core.counters.handshakesCompletedAsResponder++;
  out.push({ type: 'send', to: peer.endpoint!, data: response.message });
  onAuthenticatedTraversal(peer, now);
  onAuthenticatedSent(peer);
  onSessionDerived(core, peer, now);
}

export function handleResponse(core: EngineCore, message: Buffer, from: Endpoint, now: number, out: WireGuardAction[]): void {
  core.counters.responsesReceived++;
  if (!admit(core, message, from, now, out)) return;
  const localIndex = message.readUInt32LE(RESPONSE.receiver);
  const entry = core.indices.get(localIndex);
  const peer = entry && !entry.keypair && entry.peer.handshake.localIndex === localIndex ? entry.peer : undefined;
  if (!peer || !peer.handshake.secrets) return drop(core, out, 'unknown-receiver-index');
  const consumed = consumeResponse(core.local, peer.identity, peer.handshake.secrets, message);
  if (!consumed.ok) return drop(core, out, consumed.reason, peer);
  peer.handshake.localIndex = undefined; // the index now names the keypair
  peer.handshake.secrets = undefined;
  const remoteIndex = message.readUInt32LE(RESPONSE.sender);
  installKeypair(core, peer, createKeypair(consumed.chainKey, true, localIndex, remoteIndex, now));
  core.counters.handshakesCompleted++;
  core.counters.handshakesCompletedAsInitiator++;
  peer.endpoint = { ...from };
  onAuthenticatedTraversal(peer, now);
  onAuthenticatedReceived(peer);
  onSessionDerived(core, peer, now);
  onHandshakeComplete(peer, now);
  flushQueue(core, peer, now, out, true);
}

export function handleCookieReply(core: EngineCore, message: Buffer, now: number, out: WireGuardAction[]): void {
  core.counters.cookieRepliesReceived++;
  const entry = core.indices.get(message.readUInt32LE(COOKIE_REPLY.receiver));
  if (!entry) return drop(core, out, 'unknown-receiver-index');
  if (!consumeCookieReply(message, entry.peer.identity.cookieKey, entry.peer.cookie, now)) return drop(core, out, 'cookie-decrypt', entry.peer);
  // The initiation is resent by the retransmit timer, now with mac2 (wireguard-go does the same).
}

export const HANDSHAKE_SIZES = { initiation: INITIATION.size, response: RESPONSE.size, cookieReply: COOKIE_REPLY.size } as const;
