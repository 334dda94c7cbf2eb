/**
 * The WireGuard engine as a listener protocol: outer datagrams in, inner UDP datagrams (with the
 * peer's public key) out to the pipeline; replies and out-of-band packets encrypted to the peer
 * that owns the inner address, or to the peer named by key. Devices send to `address:port` inside
 * the tunnel; datagrams to anything else inside it are counted drops (`inner-destination`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { GatewayError, type Datagram, type ListenerProtocol, type ListenerProtocolContext, type ProtocolDatagram } from '../../gateway/plugin-kit.js';
import { createAllowedIps } from './allowed-ips.js';
import { WireGuardEngine } from './engine.js';
import type { PeerConfig, WireGuardAction } from './types.js';
import type { WireGuardListenerOptions } from './options.js';

/** How often the engine's timers run (its shortest timer is 5 s: REKEY_TIMEOUT). */
const TICK_MS = 250;

function privateKeyOf(o: WireGuardListenerOptions, ctx: ListenerProtocolContext): string {
  if (o.privateKey) return o.privateKey;
  if (!o.privateKeyFile) throw new GatewayError('UGW_ERR_LISTENER_PROTOCOL', `listener "${ctx.listener}": wireguard needs privateKey or privateKeyFile (wg genkey > key)`);
  const file = resolve(ctx.baseDir, o.privateKeyFile);
  try { return readFileSync(file, 'utf8').trim(); } catch (err) {
    throw new GatewayError('UGW_ERR_LISTENER_PROTOCOL', `listener "${ctx.listener}": cannot read the wireguard private key ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function endpointOf(text: string): { address: string; port: number } {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(text)!;
  return { address: m[1]!, port: Number(m[2]) };
}

export function createWireGuardProtocol(o: WireGuardListenerOptions, ctx: ListenerProtocolContext): ListenerProtocol {
  if (isIP(o.address) === 0) throw new GatewayError('UGW_ERR_LISTENER_PROTOCOL', `listener "${ctx.listener}": wireguard address "${o.address}" is not an IP address (the gateway's address inside the tunnel, e.g. 10.77.0.1)`);
  const peers: PeerConfig[] = o.peers.map((p) => ({
    publicKey: p.publicKey, allowedIPs: p.allowedIPs,
    ...(p.presharedKey ? { presharedKey: p.presharedKey } : {}), ...(p.name ? { name: p.name } : {}),
    ...(p.endpoint ? { endpoint: endpointOf(p.endpoint) } : {}), ...(p.persistentKeepalive ? { persistentKeepalive: p.persistentKeepalive } : {}),
  }));
  let engine: WireGuardEngine;
  try {
    engine = new WireGuardEngine({ privateKey: privateKeyOf(o, ctx), peers, underLoadHandshakesPerSecond: o.underLoadHandshakesPerSecond });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('UGW_ERR_LISTENER_PROTOCOL', `listener "${ctx.listener}": ${(err as Error).message}`, { cause: err });
  }
  /** Which peer owns an inner address (cryptokey routing: allowed IPs do not overlap). */
  const owners = peers.map((p) => ({ key: p.publicKey, owns: createAllowedIps(p.allowedIPs, `peer ${p.name ?? p.publicKey}`) }));
  const peerOf = (address: string) => owners.find((p) => p.owns(address))?.key;
  const local = { counters: { innerDestination: 0 } };

  function flush(actions: readonly WireGuardAction[], out: Datagram[]): string | undefined {
    let refused: string | undefined;
    for (const a of actions) {
      if (a.type === 'send') out.push({ data: a.data, address: a.to.address, port: a.to.port });
      else if (a.type === 'drop') refused ??= a.reason;
    }
    return refused;
  }

  const timer = setInterval(() => {
    const out: Datagram[] = [];
    flush(engine.tick(Date.now()), out);
    if (out.length) ctx.sendOuter(out);
  }, TICK_MS);
  timer.unref();

  return {
    type: 'wireguard',
    receive(batch, now) {
      const inner: ProtocolDatagram[] = [];
      const out: Datagram[] = [];
      for (const d of batch) {
        for (const a of engine.receive(d.data, { address: d.address, port: d.port }, now)) {
          if (a.type === 'send') out.push({ data: a.data, address: a.to.address, port: a.to.port });
          else if (a.type === 'deliver') {
            const p = a.packet;
            if (p.dst !== o.address || p.dstPort !== o.port) { local.counters.innerDestination++; continue; }
            inner.push({
              data: p.payload, address: p.src, port: p.srcPort, peerKey: a.peer, outer: a.from,
              inner: { sourceAddress: p.src, sourcePort: p.srcPort, destinationAddress: p.dst, destinationPort: p.dstPort },
            });
          }
        }
      }
      if (out.length) ctx.sendOuter(out);
      return inner;
    },
    send(to, data, now) {
      const peer = to.peerKey ?? peerOf(to.address);
      if (!peer) return 'unknown-peer';
      if (!engine.hasSession(peer, now)) return 'no-session';
      const out: Datagram[] = [];
      const refused = flush(engine.sendUdp(peer, { src: o.address, srcPort: o.port, dst: to.address, dstPort: to.port, payload: data }, now), out);
      if (out.length) ctx.sendOuter(out);
      return refused;
    },
    counters() {
      const c = engine.counters();
      const flat: Record<string, number> = {
        handshakes_completed_total: c.handshakesCompleted, handshake_timeouts_total: c.handshakeTimeouts,
        cookie_replies_sent_total: c.cookieRepliesSent, keepalives_sent_total: c.keepalivesSent,
        datagrams_decrypted_total: c.datagramsDecrypted, bytes_decrypted_total: c.bytesDecrypted,
        datagrams_encrypted_total: c.datagramsEncrypted, bytes_encrypted_total: c.bytesEncrypted,
      };
      for (const [reason, n] of Object.entries(c.drops)) flat[`drops_total{reason="${reason}"}`] = n;
      if (local.counters.innerDestination) flat['drops_total{reason="inner-destination"}'] = local.counters.innerDestination;
      // A gauge (no _total): peers with a session the gateway can send on now.
      flat.peers_live = engine.peers(Date.now()).filter((p) => p.hasSession).length;
      return flat;
    },
    status(now) {
      const ps = engine.peers(now);
      return { publicKey: engine.publicKey, address: `${o.address}:${o.port}`, peers: ps.length, liveSessions: ps.filter((p) => p.hasSession).length };
    },
    close() { clearInterval(timer); },
  };
}
