/**
 * node --import tsx bench/wireguard.ts [--seconds 2] [--peers 2000]
 *
 * The WireGuard engine on one core (this process, one thread), no sockets: the protocol work only.
 *   handshakes/s (responder)  — initiations from `--peers` distinct configured peers, each answered
 *                               with a response (consume + respond: 3 X25519, 1 key generation)
 *   handshakes/s (both sides) — one pair: initiation, response, consumed response, repeated
 *   data packets/s            — encrypt (build the inner IPv4/UDP packet + seal) and decrypt
 *                               (open + replay check + parse + allowedIPs) for 64 B and 1200 B payloads
 * Every loop stops at its count or its time, whichever comes first.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { WireGuardEngine, generatePrivateKey, publicKeyOf, type WireGuardAction } from '../listener-protocols/wireguard/index.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, peers: { type: 'string', default: '2000' } } });
const SECONDS = Number(values.seconds);
const PEERS = Number(values.peers);
const A = { address: '192.0.2.1', port: 51820 };
const B = { address: '192.0.2.2', port: 51820 };
const NO_RATE_LIMITS = { rekeyTimeout: 0, handshakeInitiationRate: 0 };

const sends = (out: WireGuardAction[]) => out.filter((a): a is Extract<WireGuardAction, { type: 'send' }> => a.type === 'send').map((a) => a.data);

/**
 * Runs `step` until `maxCount` or the time is up. Reports per CPU-second of this process
 * (process.cpuUsage: what one core does, whatever else the machine runs) and per wall second.
 */
function rate(label: string, maxCount: number, step: (i: number) => void): number {
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let i = 0;
  for (; i < maxCount && (i % 64 !== 0 || performance.now() < deadline); i++) step(i);
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const wallSeconds = (performance.now() - start) / 1000;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
  console.log(`| ${label.padEnd(26)} | ${fmt(i / cpuSeconds)} | ${fmt(i / wallSeconds)} | ${String(i).padStart(7)} |`);
  return i;
}

function responderHandshakes(): void {
  const responderKey = generatePrivateKey();
  const responderPublic = publicKeyOf(responderKey);
  const initiatorKeys = Array.from({ length: PEERS }, () => generatePrivateKey());
  const responder = new WireGuardEngine({ privateKey: responderKey, underLoadHandshakesPerSecond: Infinity, peers: initiatorKeys.map((k) => ({ publicKey: publicKeyOf(k), allowedIPs: [] })) });
  const initiations = initiatorKeys.map((k) => {
    const e = new WireGuardEngine({ privateKey: k, peers: [{ publicKey: responderPublic, allowedIPs: [], endpoint: B }] });
    return sends(e.initiateHandshake(responderPublic, Date.now()))[0]!;
  });
  const now = Date.now();
  rate('handshakes/s (responder)', PEERS, (i) => responder.receive(initiations[i]!, A, now));
}

function pair() {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = new WireGuardEngine({ privateKey: aKey, limits: NO_RATE_LIMITS, peers: [{ publicKey: publicKeyOf(bKey), allowedIPs: ['10.9.0.2/32'], endpoint: B }] });
  const b = new WireGuardEngine({ privateKey: bKey, limits: NO_RATE_LIMITS, underLoadHandshakesPerSecond: Infinity, peers: [{ publicKey: publicKeyOf(aKey), allowedIPs: ['10.9.0.1/32'] }] });
  return { a, b, bPublic: publicKeyOf(bKey) };
}

function bothSidesHandshakes(): void {
  const { a, b, bPublic } = pair();
  const t0 = Date.now();
  rate('handshakes/s (both sides)', 1_000_000, (i) => {
    const now = t0 + i * 25; // past the 20 ms initiation flood limit each time
    const init = sends(a.initiateHandshake(bPublic, now))[0]!;
    const resp = sends(b.receive(init, A, now))[0]!;
    a.receive(resp, B, now);
  });
}

function dataPackets(size: number): void {
  const { a, b, bPublic } = pair();
  const now = Date.now();
  const packet = { src: '10.9.0.1', dst: '10.9.0.2', srcPort: 4000, dstPort: 5000, payload: Buffer.alloc(size, 7) };
  for (const d of sends(a.sendUdp(bPublic, packet, now))) for (const r of sends(b.receive(d, A, now))) a.receive(r, B, now);
  const sealed: Buffer[] = [];
  rate(`encrypt ${size} B packets/s`, 2_000_000, () => { sealed.push(sends(a.sendUdp(bPublic, packet, now))[0]!); });
  let delivered = 0;
  const count = rate(`decrypt ${size} B packets/s`, sealed.length, (i) => { delivered += b.receive(sealed[i]!, A, now).filter((x) => x.type === 'deliver').length; });
  if (delivered !== count) throw new Error(`only ${delivered} of ${count} delivered`);
}

console.log(`node ${process.version}, one thread, up to ${SECONDS} s per figure, load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
console.log('| what                       | per CPU-s | per wall-s |   count |');
console.log('|----------------------------|----------:|-----------:|--------:|');
responderHandshakes();
bothSidesHandshakes();
dataPackets(64);
dataPackets(1200);
