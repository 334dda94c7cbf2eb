/** What `tick(now)` does for each peer: the timer events of whitepaper §6 as wireguard-go's timers.go runs them. */
import { clearHandshake, zeroKeys, type EngineCore } from './core.js';
import { sendInitiation } from './handshake-flow.js';
import type { PeerState } from './peer.js';
import { dropQueue, sendKeepalive } from './transport-flow.js';
import type { WireGuardAction } from './types.js';

const due = (at: number | undefined, now: number): boolean => at !== undefined && now >= at;

/** REKEY_ATTEMPT_TIME / REKEY_TIMEOUT retries, then give up (wireguard-go MaxTimerHandshakes = 18). */
function retransmit(core: EngineCore, peer: PeerState, now: number, out: WireGuardAction[]): void {
  peer.timers.retransmitAt = undefined;
  if (peer.handshake.attempts >= Math.floor(core.limits.rekeyAttemptTime / core.limits.rekeyTimeout)) {
    core.counters.handshakeTimeouts++;
    clearHandshake(core, peer);
    peer.timers.sendKeepaliveAt = undefined;
    dropQueue(core, peer, out);
    peer.timers.zeroKeysAt ??= now + 3 * core.limits.rejectAfterTime;
    return;
  }
  peer.handshake.attempts++;
  sendInitiation(core, peer, now, true, out);
}

function keepalive(core: EngineCore, peer: PeerState, now: number, out: WireGuardAction[]): void {
  peer.timers.sendKeepaliveAt = undefined;
  sendKeepalive(core, peer, now, out);
  if (peer.timers.needAnotherKeepalive) {
    peer.timers.needAnotherKeepalive = false;
    peer.timers.sendKeepaliveAt = now + core.limits.keepaliveTimeout;
  }
}

export function tickPeer(core: EngineCore, peer: PeerState, now: number, out: WireGuardAction[]): void {
  const t = peer.timers;
  if (due(t.retransmitAt, now)) retransmit(core, peer, now, out);
  if (due(t.sendKeepaliveAt, now)) keepalive(core, peer, now, out);
  if (due(t.newHandshakeAt, now)) {
    t.newHandshakeAt = undefined; // we sent data and heard nothing back (whitepaper §6.5)
    sendInitiation(core, peer, now, false, out);
  }
  if (due(t.zeroKeysAt, now)) zeroKeys(core, peer);
  if (due(t.persistentKeepaliveAt, now)) {
    t.persistentKeepaliveAt = undefined;
    sendKeepalive(core, peer, now, out);
  }
}
