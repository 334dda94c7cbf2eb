/** The engine's shared state and the small operations every flow uses: indices, drops, keypair slots, timers. */
import type { KeyObject } from 'node:crypto';
import { REKEY_TIMEOUT_JITTER_MAX, type WireGuardLimits } from './constants.js';
import type { CookieChecker } from './cookie.js';
import type { DropReason, WireGuardCounters } from './counters.js';
import type { Keypair } from './keypair.js';
import type { LoadMonitor, SourceRateLimiter } from './load.js';
import type { LocalIdentity } from './noise.js';
import type { PeerState } from './peer.js';
import type { WireGuardAction } from './types.js';

export interface IndexEntry {
  peer: PeerState;
  /** absent: the index of our initiation in flight */
  keypair?: Keypair;
}

export interface EngineCore {
  local: LocalIdentity;
  limits: WireGuardLimits;
  peersByKey: Map<string, PeerState>;
  indices: Map<number, IndexEntry>;
  counters: WireGuardCounters;
  cookies: CookieChecker;
  load: LoadMonitor;
  rateLimiter: SourceRateLimiter;
  random: (n: number) => Buffer;
  /** a fresh ephemeral private key for each handshake message we create */
  newEphemeral: () => KeyObject;
  queueLimit: number;
}

export function drop(core: EngineCore, out: WireGuardAction[], reason: DropReason, peer?: PeerState): void {
  core.counters.drops[reason] = (core.counters.drops[reason] ?? 0) + 1;
  out.push(peer ? { type: 'drop', reason, peer: peer.key } : { type: 'drop', reason });
}

/** A fresh random 32-bit index not in use (whitepaper §5.4.2: "randomly generated"). */
export function newIndex(core: EngineCore, entry: IndexEntry): number {
  for (;;) {
    const index = core.random(4).readUInt32LE(0);
    if (!core.indices.has(index)) {
      core.indices.set(index, entry);
      return index;
    }
  }
}

export function jitter(): number {
  return Math.floor(Math.random() * REKEY_TIMEOUT_JITTER_MAX);
}

function forget(core: EngineCore, kp: Keypair | undefined): void {
  if (kp) core.indices.delete(kp.localIndex);
}

/** Put a new session's keypair in its slot, as wireguard-go's BeginSymmetricSession. */
export function installKeypair(core: EngineCore, peer: PeerState, kp: Keypair): void {
  core.indices.set(kp.localIndex, { peer, keypair: kp });
  if (kp.isInitiator) {
    if (peer.next) {
      forget(core, peer.previous);
      forget(core, peer.current);
      peer.previous = peer.next;
      peer.next = undefined;
    } else {
      forget(core, peer.previous);
      peer.previous = peer.current;
    }
    peer.current = kp;
  } else {
    forget(core, peer.next);
    forget(core, peer.previous);
    peer.previous = undefined;
    peer.next = kp;
  }
}

/** The initiator used `next`: it becomes current. */
export function confirmNext(core: EngineCore, peer: PeerState): void {
  forget(core, peer.previous);
  peer.previous = peer.current;
  peer.current = peer.next;
  peer.next = undefined;
}

export function clearHandshake(core: EngineCore, peer: PeerState): void {
  if (peer.handshake.localIndex !== undefined) core.indices.delete(peer.handshake.localIndex);
  peer.handshake.localIndex = undefined;
  peer.handshake.secrets = undefined;
}

export function zeroKeys(core: EngineCore, peer: PeerState): void {
  forget(core, peer.current);
  forget(core, peer.previous);
  forget(core, peer.next);
  peer.current = peer.previous = peer.next = undefined;
  clearHandshake(core, peer);
  peer.timers.zeroKeysAt = undefined;
}

/** The keypair to send with, if the session may still be used (REJECT_AFTER_TIME, REJECT_AFTER_MESSAGES). */
export function sendingKeypair(core: EngineCore, peer: PeerState, now: number): Keypair | undefined {
  const kp = peer.current;
  if (!kp || now - kp.createdAt >= core.limits.rejectAfterTime || kp.sendCounter >= core.limits.rejectAfterMessages) return undefined;
  return kp;
}

// Timer events named as in wireguard-go's timers.go.

export function onAuthenticatedTraversal(peer: PeerState, now: number): void {
  if (peer.persistentKeepalive > 0) peer.timers.persistentKeepaliveAt = now + peer.persistentKeepalive;
}

export function onAuthenticatedSent(peer: PeerState): void {
  peer.timers.sendKeepaliveAt = undefined;
}

export function onAuthenticatedReceived(peer: PeerState): void {
  peer.timers.newHandshakeAt = undefined;
}

export function onDataSent(core: EngineCore, peer: PeerState, now: number): void {
  peer.timers.newHandshakeAt ??= now + core.limits.keepaliveTimeout + core.limits.rekeyTimeout + jitter();
}

export function onDataReceived(core: EngineCore, peer: PeerState, now: number): void {
  if (peer.timers.sendKeepaliveAt === undefined) peer.timers.sendKeepaliveAt = now + core.limits.keepaliveTimeout;
  else peer.timers.needAnotherKeepalive = true;
}

export function onSessionDerived(core: EngineCore, peer: PeerState, now: number): void {
  peer.timers.zeroKeysAt = now + 3 * core.limits.rejectAfterTime;
}

export function onHandshakeComplete(peer: PeerState, now: number): void {
  peer.timers.retransmitAt = undefined;
  peer.handshake.attempts = 0;
  peer.handshake.sentLastMinuteHandshake = false;
  peer.lastHandshakeAt = now;
}
