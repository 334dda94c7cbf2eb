/**
 * Records the known-answer fixture `fixtures/wireguard-go-session.json` (run by hand, as root):
 *   node --import tsx test/listener-protocols/wireguard/record-wireguard-go.ts
 * wireguard-go in a namespace sends one UDP datagram over IPv4 and one over IPv6 inside the
 * tunnel; the engine (fixed key, seeded randomness) answers each with "echo:" + payload. The
 * fixture holds every datagram the engine received with its time and source, every datagram it
 * sent, and the inner packets as Linux wrote them on the tun (captured with an AF_PACKET socket).
 */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WireGuardEngine, publicKeyOf } from '../../../listener-protocols/wireguard/index.js';
import { jsonLines, Namespace, run, waitFor } from './support/netns.js';
import { seededRandom } from './support/seeded-random.js';

const UDP_PEER = fileURLToPath(new URL('./support/udp-peer.mjs', import.meta.url));
const OUT = fileURLToPath(new URL('./fixtures/wireguard-go-session.json', import.meta.url));
export const KAT = { enginePrivateKey: 'oIK3DTAHaYvg+jQq9wNlvQZ4oF4Aee1P1K08RQ+SlGM=', seed: 'wireguard-go-kat', innerV4: '10.77.0.1', innerV6: 'fd77::1' };

async function main(): Promise<void> {
  const ns = new Namespace(42);
  try {
    ns.create();
    const peerPrivate = run('wg', ['genkey']);
    const peerPublic = publicKeyOf(peerPrivate);
    const engine = new WireGuardEngine({ privateKey: KAT.enginePrivateKey, random: seededRandom(KAT.seed), peers: [{ publicKey: peerPublic, allowedIPs: ['10.77.0.2/32', 'fd77::2/128'] }] });
    const socket = dgram.createSocket('udp4');
    const received: { now: number; from: { address: string; port: number }; data: string }[] = [];
    const sent: string[] = [];
    socket.on('message', (msg, rinfo) => {
      const now = Date.now();
      const from = { address: rinfo.address, port: rinfo.port };
      received.push({ now, from, data: msg.toString('hex') });
      const actions = engine.receive(msg, from, now);
      for (const a of actions) if (a.type === 'deliver') actions.push(...engine.reply(a, Buffer.concat([Buffer.from('echo:'), a.packet.payload]), now));
      for (const a of actions) if (a.type === 'send') { sent.push(a.data.toString('hex')); socket.send(a.data, a.to.port, a.to.address); }
    });
    await new Promise<void>((r) => socket.bind(0, ns.hostAddress, () => r()));
    const wg = await ns.startWireguardGo('k', { privateKey: peerPrivate, listenPort: 51820, innerCidr: '10.77.0.2/24', peerKey: engine.publicKey, peerEndpoint: `${ns.hostAddress}:${socket.address().port}`, peerAllowed: '10.77.0.0/24,fd77::/64' });
    ns.exec('ip', ['-6', 'addr', 'add', 'fd77::2/64', 'dev', wg.name, 'nodad']);
    const capture = ns.spawn('python3', ['-c', `import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3)); s.bind(("${wg.name}", 0))
print("ready", flush=True)
while True: print(s.recv(65535).hex(), flush=True)`]);
    const captured: string[] = [];
    capture.stdout!.on('data', (d: Buffer) => captured.push(...d.toString().split('\n').filter(Boolean)));
    await waitFor(() => captured[0] === 'ready', 5_000, () => 'the capture socket did not start');
    for (const [host, text] of [[KAT.innerV4, 'kat-v4'], [KAT.innerV6, 'kat-v6']] as const) {
      const lines = jsonLines(ns.spawn('node', [UDP_PEER, 'send', host, '7000', text, '8000']));
      await lines.next(5_000);
      const answer = await lines.next(10_000);
      if (answer.reply !== `echo:${text}`) throw new Error(`no echo for ${text}: ${JSON.stringify(answer)}`);
    }
    // UDP only (IPv4 protocol 17 at byte 9, IPv6 next header 17 at byte 6): request and echo, both families
    const udp = () => captured.filter((h) => (h.startsWith('4') && h.slice(18, 20) === '11') || (h.startsWith('6') && h.slice(12, 14) === '11'));
    await waitFor(() => udp().length >= 4, 5_000, () => `captured ${captured.join(' ')}`);
    capture.kill();
    socket.close();
    const fixture = { comment: 'Recorded from wireguard-go by record-wireguard-go.ts', wireguardGo: run('dpkg-query', ['-W', '-f=${Version}', 'wireguard-go']), ...KAT, peerPublicKey: peerPublic, received, sent, tunPackets: udp() };
    writeFileSync(OUT, `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`wrote ${OUT}: ${received.length} received, ${sent.length} sent, ${udp().length} tun packets`);
  } finally {
    await ns.close();
  }
}

await main();
