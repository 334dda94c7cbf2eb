/** Transport data in and out (whitepaper §5.4.6), keepalives (§6.5) and the per-peer send queue. */
import { MAX_INNER_PACKET, TRANSPORT } from './constants.js';
import {
  confirmNext, drop, onAuthenticatedReceived, onAuthenticatedSent, onAuthenticatedTraversal, onDataReceived,
  onDataSent, onHandshakeComplete, sendingKeypair, type EngineCore,
} from './core.js';
import { sendInitiation } from './handshake-flow.js';
import { parseInnerPacket } from './inner-packet.js';
import { openTransport, sealTransport, transportCounter, type Keypair } from './keypair.js';
import type { PeerState } from './peer.js';
import type { Endpoint, WireGuardAction } from './types.js';

const EMPTY = Buffer.alloc(0);

export function handleTransport(core: EngineCore, message: Buffer, from: Endpoint, now: number, out: WireGuardAction[]): void {
  core.counters.transportReceived++;
  const entry = core.indices.get(message.readUInt32LE(TRANSPORT.receiver));
  const kp = entry?.keypair;
  if (!entry || !kp) return drop(core, out, 'unknown-receiver-index');
  const peer = entry.peer;
  const counter = transportCounter(message);
  if (counter === undefined || counter >= core.limits.rejectAfterMessages || now - kp.createdAt >= core.limits.rejectAfterTime) {
    return drop(core, out, 'keypair-expired', peer);
  }
  const plaintext = openTransport(kp, message, counter);
  if (!plaintext) return drop(core, out, 'decrypt-failed', peer);
  if (!kp.replay.accept(counter)) return drop(core, out, 'replay', peer);
  core.counters.datagramsDecrypted++;
  core.counters.bytesDecrypted += message.length;
  peer.rxBytes += message.length;
  peer.endpoint = { ...from }; // roaming: the newest authenticated source wins (whitepaper §2.1)
  if (kp === peer.next) {
    confirmNext(core, peer);
    onHandshakeComplete(peer, now);
    flushQueue(core, peer, now, out, false);
  }
  keepKeyFreshReceiving(core, peer, kp, now, out);
  onAuthenticatedTraversal(peer, now);
  onAuthenticatedReceived(peer);
  if (plaintext.length === 0) {
    core.counters.keepalivesReceived++;
    return;
  }
  onDataReceived(core, peer, now);
  deliver(core, peer, plaintext, from, out);
}

function deliver(core: EngineCore, peer: PeerState, plaintext: Buffer, from: Endpoint, out: WireGuardAction[]): void {
  const parsed = parseInnerPacket(plaintext);
  if (!parsed.ok) return drop(core, out, parsed.reason, peer);
  if (!peer.allowed(parsed.packet.src)) return drop(core, out, 'allowed-ips', peer);
  core.counters.delivered++;
  out.push({ type: 'deliver', peer: peer.key, from: { ...from }, packet: parsed.packet });
}

/** The initiator rekeys before REJECT_AFTER_TIME would cut it off (wireguard-go keepKeyFreshReceiving). */
function keepKeyFreshReceiving(core: EngineCore, peer: PeerState, kp: Keypair, now: number, out: WireGuardAction[]): void {
  if (kp !== peer.current || !kp.isInitiator || peer.handshake.sentLastMinuteHandshake) return;
  const { rejectAfterTime, keepaliveTimeout, rekeyTimeout } = core.limits;
  if (now - kp.createdAt > rejectAfterTime - keepaliveTimeout - rekeyTimeout) {
    peer.handshake.sentLastMinuteHandshake = true;
    sendInitiation(core, peer, now, false, out);
  }
}

/** REKEY_AFTER_MESSAGES, or REKEY_AFTER_TIME for the initiator (wireguard-go keepKeyFreshSending). */
function keepKeyFreshSending(core: EngineCore, peer: PeerState, kp: Keypair, now: number, out: WireGuardAction[]): void {
  if (kp.sendCounter > core.limits.rekeyAfterMessages || (kp.isInitiator && now - kp.createdAt > core.limits.rekeyAfterTime)) {
    sendInitiation(core, peer, now, false, out);
  }
}

function seal(core: EngineCore, peer: PeerState, kp: Keypair, plaintext: Buffer, now: number, out: WireGuardAction[]): void {
  const data = sealTransport(kp, plaintext);
  core.counters.datagramsEncrypted++;
  core.counters.bytesEncrypted += data.length;
  peer.txBytes += data.length;
  if (plaintext.length === 0) core.counters.keepalivesSent++;
  out.push({ type: 'send', to: peer.endpoint!, data });
  onAuthenticatedTraversal(peer, now);
  onAuthenticatedSent(peer);
  if (plaintext.length > 0) onDataSent(core, peer, now);
}

/**
 * Encrypt an inner IP packet (or a keepalive: empty) for the peer; without a usable session,
 * queue it (bounded) and start a handshake, as wireguard-go's staged queue does.
 */
export function sendPlaintext(core: EngineCore, peer: PeerState, plaintext: Buffer, now: number, out: WireGuardAction[]): void {
  if (plaintext.length > MAX_INNER_PACKET) return drop(core, out, 'bad-inner-packet', peer);
  const kp = sendingKeypair(core, peer, now);
  if (kp && peer.endpoint) {
    seal(core, peer, kp, plaintext, now, out);
    keepKeyFreshSending(core, peer, kp, now, out);
    return;
  }
  if (!peer.endpoint) return drop(core, out, 'no-endpoint', peer);
  if (peer.queue.length >= core.queueLimit) {
    peer.queue.shift();
    drop(core, out, 'queue-full', peer);
  }
  peer.queue.push(plaintext);
  core.counters.queued++;
  const awaitingConfirmation = peer.next !== undefined && now - peer.next.createdAt < core.limits.rekeyTimeout;
  if (!awaitingConfirmation) sendInitiation(core, peer, now, false, out);
}

/** Send what waited for the session; with nothing waiting and `keepaliveIfEmpty`, a keepalive confirms the session. */
export function flushQueue(core: EngineCore, peer: PeerState, now: number, out: WireGuardAction[], keepaliveIfEmpty: boolean): void {
  const kp = sendingKeypair(core, peer, now);
  if (!kp || !peer.endpoint) return;
  if (peer.queue.length === 0) {
    if (keepaliveIfEmpty) seal(core, peer, kp, EMPTY, now, out);
    return;
  }
  const queued = peer.queue;
  peer.queue = [];
  for (const p of queued) seal(core, peer, kp, p, now, out);
}

export function sendKeepalive(core: EngineCore, peer: PeerState, now: number, out: WireGuardAction[]): void {
  if (peer.queue.length > 0) return; // the queue goes first once the session is up
  sendPlaintext(core, peer, EMPTY, now, out);
}

/** Give up on queued packets (the handshake timed out). */
export function dropQueue(core: EngineCore, peer: PeerState, out: WireGuardAction[]): void {
  for (let i = 0; i < peer.queue.length; i++) drop(core, out, 'handshake-timeout', peer);
  peer.queue = [];
}
