/**
 * Against a WireGuard nobody here wrote: Debian's wireguard-go and wg in a network namespace the
 * test creates (veth 10.213.41.0/30, tunnel 10.77.0.0/24 and, for the unknown peer, 10.78.0.0/24).
 * The engine runs in this process on a UDP socket bound to the host end of the veth pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { WireGuardEngine, generatePrivateKey, publicKeyOf, type WireGuardAction } from '../../../listener-protocols/wireguard/index.js';
import { startEngineSocket, type EngineSocket } from './support/engine-socket.js';
import { canMakeNamespaces, jsonLines, Namespace, run, waitFor, type WgInterface } from './support/netns.js';

const UDP_PEER = fileURLToPath(new URL('./support/udp-peer.mjs', import.meta.url));
const ENGINE_INNER = '10.77.0.1';
const PEER_INNER = '10.77.0.2';
const noNamespaces = canMakeNamespaces();
if (noNamespaces) console.warn(`wireguard-go interop skipped: cannot create a network namespace here (${noNamespaces})`);

describe.skipIf(noNamespaces !== undefined)('WireGuard engine against wireguard-go in a network namespace (with a preshared key)', () => {
  const ns = new Namespace(41);
  const enginePrivate = generatePrivateKey();
  const peerPrivate = run('wg', ['genkey']);
  const strangerPrivate = run('wg', ['genkey']);
  const presharedKey = run('wg', ['genpsk']);
  let engine: WireGuardEngine;
  let sock: EngineSocket;
  let peer: WgInterface;

  beforeAll(async () => {
    ns.create();
    engine = new WireGuardEngine({
      privateKey: enginePrivate,
      peers: [{ publicKey: run('wg', ['pubkey'], peerPrivate), allowedIPs: [`${PEER_INNER}/32`, 'fd77::2/128'], presharedKey, name: 'device-1' }],
    });
    // echo server inside the tunnel: every datagram to port 7000 comes back with "echo:" in front
    sock = await startEngineSocket(engine, ns.hostAddress, (d) =>
      d.packet.dstPort === 7000 ? engine.reply(d, Buffer.concat([Buffer.from('echo:'), d.packet.payload]), Date.now()) : []);
    const engineEndpoint = `${ns.hostAddress}:${sock.port}`;
    peer = await ns.startWireguardGo('a', { privateKey: peerPrivate, listenPort: 51820, innerCidr: `${PEER_INNER}/24`, peerKey: engine.publicKey, peerEndpoint: engineEndpoint, peerAllowed: '10.77.0.0/24,fd77::/64', presharedKey });
    ns.exec('ip', ['-6', 'addr', 'add', 'fd77::2/64', 'dev', peer.name, 'nodad']);
    await ns.startWireguardGo('b', { privateKey: strangerPrivate, listenPort: 51821, innerCidr: '10.78.0.2/24', peerKey: engine.publicKey, peerEndpoint: engineEndpoint, peerAllowed: '10.78.0.0/24' });
  });

  afterAll(async () => {
    await sock?.close();
    await ns.close();
  });

  async function sendFromNamespace(host: string, text: string): Promise<{ localPort: number; answer: Record<string, unknown> }> {
    const child = ns.spawn('node', [UDP_PEER, 'send', host, '7000', text, '15000']);
    const lines = jsonLines(child);
    const { localPort } = await lines.next(5_000) as { localPort: number };
    return { localPort, answer: await lines.next(20_000) };
  }

  it('derives public keys as `wg pubkey` does', () => {
    expect(publicKeyOf(peerPrivate)).toBe(peer.publicKey);
  });

  it('wireguard-go initiates; the datagram is delivered with inner addresses and the peer key; the reply arrives in the tunnel', async () => {
    const { localPort, answer } = await sendFromNamespace(ENGINE_INNER, 'ping-1');
    expect(answer).toEqual({ reply: 'echo:ping-1', from: `${ENGINE_INNER}:7000` });
    const d = sock.deliveries.find((x) => x.packet.payload.toString() === 'ping-1')!;
    expect(d.peer).toBe(peer.publicKey);
    expect(d.packet).toMatchObject({ src: PEER_INNER, dst: ENGINE_INNER, srcPort: localPort, dstPort: 7000 });
    expect(d.from).toEqual({ address: ns.nsAddress, port: 51820 });
    const c = engine.counters();
    expect(c.handshakesCompletedAsResponder).toBe(1);
    expect(c.delivered).toBeGreaterThanOrEqual(1);
    expect(engine.peers(Date.now())[0]).toMatchObject({ name: 'device-1', hasSession: true, endpoint: { address: ns.nsAddress, port: 51820 } });
  });

  it('carries IPv6 inside the tunnel too', async () => {
    const { localPort, answer } = await sendFromNamespace('fd77::1', 'ping-6');
    expect(answer).toEqual({ reply: 'echo:ping-6', from: 'fd77::1:7000' });
    expect(sock.deliveries.find((x) => x.packet.payload.toString() === 'ping-6')!.packet).toMatchObject({ src: 'fd77::2', dst: 'fd77::1', srcPort: localPort });
  });

  it('the engine initiates to a peer with a known endpoint (out-of-band) and the datagram arrives', async () => {
    const initiator = new WireGuardEngine({
      privateKey: enginePrivate,
      peers: [{ publicKey: peer.publicKey, allowedIPs: [`${PEER_INNER}/32`], presharedKey, endpoint: { address: ns.nsAddress, port: peer.listenPort } }],
    });
    const oob = await startEngineSocket(initiator, ns.hostAddress);
    try {
      const listener = ns.spawn('node', [UDP_PEER, 'listen', PEER_INNER, '9000', '10000']);
      const lines = jsonLines(listener);
      expect(await lines.next(5_000)).toEqual({ ready: true });
      oob.apply(initiator.sendUdp(peer.publicKey, { src: ENGINE_INNER, dst: PEER_INNER, srcPort: 7001, dstPort: 9000, payload: Buffer.from('out-of-band') }, Date.now()));
      expect(await lines.next(10_000)).toEqual({ data: 'out-of-band', from: `${ENGINE_INNER}:7001` });
      expect(initiator.counters()).toMatchObject({ initiationsSent: 1, handshakesCompletedAsInitiator: 1, queued: 1 });
    } finally {
      await oob.close();
    }
  });

  it('a peer with an unknown key fails its handshake, counted', async () => {
    const child = ns.spawn('node', [UDP_PEER, 'send', '10.78.0.1', '7000', 'let me in', '3000']);
    const lines = jsonLines(child);
    await lines.next(5_000); // its local port
    await waitFor(() => (engine.counters().drops['unknown-peer'] ?? 0) >= 1, 10_000, () => JSON.stringify(engine.counters()));
    const answer = await lines.next(10_000);
    expect(answer).toEqual({ timeout: true });
    expect(sock.deliveries.some((d) => d.packet.payload.toString() === 'let me in')).toBe(false);
  });

  it('a replayed transport message from wireguard-go is dropped as a replay; a forged one fails to decrypt', () => {
    const data = sock.received.find((m) => m[0] === 4 && m.length > 32)!;
    expect(data).toBeDefined();
    const before = engine.counters();
    const replay = engine.receive(data, { address: ns.nsAddress, port: 51820 }, Date.now());
    const forged = Buffer.from(data);
    forged[forged.length - 20]! ^= 0x01;
    const forgedOut = engine.receive(forged, { address: ns.nsAddress, port: 51820 }, Date.now());
    expect(replay).toEqual<WireGuardAction[]>([{ type: 'drop', reason: 'replay', peer: peer.publicKey }]);
    expect(forgedOut).toEqual<WireGuardAction[]>([{ type: 'drop', reason: 'decrypt-failed', peer: peer.publicKey }]);
    const after = engine.counters();
    expect(after.delivered).toBe(before.delivered);
    expect(after.drops.replay).toBe((before.drops.replay ?? 0) + 1);
  });
});
