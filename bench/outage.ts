/**
 * Outage soak for the disk buffer (issue 14): a gateway process (test/support/gateway-child.ts) sends
 * to a real HTTP endpoint; packets numbered 0..N at a steady rate; the endpoint is down for
 * --outage seconds, then back; every packet is checked at the endpoint (delivered, duplicated, out of
 * order, lost). With --kill-at=S the gateway is killed (SIGKILL) S seconds into the outage and started
 * again at once on the same port. Bounded: the run ends --drain seconds after sending stops.
 *   node --import tsx bench/outage.ts --rate=1000 --outage=600 [--kill-at=300] [--fsync=interval]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpSink } from '../test/support/http-sink.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: {
  rate: { type: 'string', default: '1000' }, outage: { type: 'string', default: '600' }, before: { type: 'string', default: '10' },
  after: { type: 'string', default: '20' }, drain: { type: 'string', default: '180' }, 'kill-at': { type: 'string' },
  fsync: { type: 'string', default: 'interval' }, size: { type: 'string', default: '100' },
} });
const RATE = Number(values.rate), OUTAGE = Number(values.outage), BEFORE = Number(values.before), AFTER = Number(values.after);
const KILL_AT = values['kill-at'] !== undefined ? Number(values['kill-at']) : undefined;
const SIZE = Number(values.size);

const freePort = () => new Promise<number>((r) => { const s = createNetServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sink = new HttpSink();
await sink.start();
const dir = mkdtempSync(join(tmpdir(), 'udpgw-outage-'));
const udpPort = await freePort();
const configFile = join(dir, 'gateway.json');
writeFileSync(configFile, JSON.stringify({
  secret: 'outage-bench-secret-0123456789', admin: { enabled: false }, log: { level: 'silent' },
  listeners: [{ name: 'edge', host: '127.0.0.1', port: udpPort, receiveBufferBytes: 4_194_304, destinations: [{
    name: 'web', type: 'http', url: `http://127.0.0.1:${sink.port}/`, timeoutMs: 2000, inFlight: 1, batch: { maxPackets: 100, lingerMs: 5 },
    retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1000 }, deadLetter: { file: 'dead.ndjson' },
    buffer: { disk: { path: 'buffer', maxBytes: 4_294_967_296, fsync: values.fsync, fsyncIntervalMs: 1000 } },
  }] }],
}));

function startGateway(): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/gateway-child.ts'), configFile], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
  return new Promise((res, rej) => {
    proc.stdout!.once('data', () => res(proc));
    proc.once('exit', (c) => rej(new Error(`gateway exited ${c}`)));
  });
}

let gw = await startGateway();
let gatewayUp = true;
const client = createSocket('udp4');
const payload = (i: number) => { const b = Buffer.alloc(Math.max(SIZE, 12), 'x'); b.write(`p${i} `); return b; };
let sent = 0, sentWhileDown = 0;
const downSet = new Set<number>();
const total = Math.round(RATE * (BEFORE + OUTAGE + AFTER));
const t0 = Date.now();
let maxBufferBytes = 0;
const bufferBytes = () => { try { return readdirSync(join(dir, 'buffer')).filter((f) => f.endsWith('.seg')).reduce((n, f) => n + statSync(join(dir, 'buffer', f)).size, 0); } catch { return 0; } };

// The sender: RATE packets/s in 10 ms ticks, by the clock (catching up if a tick is late).
const sending = new Promise<void>((done) => {
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * RATE));
    while (sent < due) { if (!gatewayUp) { sentWhileDown++; downSet.add(sent); } client.send(payload(sent), udpPort, '127.0.0.1'); sent++; }
    if (sent >= total) { clearInterval(tick); done(); }
  }, 10);
});
const sampler = setInterval(() => { maxBufferBytes = Math.max(maxBufferBytes, bufferBytes()); }, 1000);

await sleep(BEFORE * 1000);
await sink.stop();
const outageAt = Date.now();
console.log(`t=${((outageAt - t0) / 1000).toFixed(0)} s: endpoint down for ${OUTAGE} s (${RATE} packets/s)`);
if (KILL_AT !== undefined) {
  await sleep(KILL_AT * 1000);
  await new Promise<void>((r) => { gw.once('exit', () => r()); gatewayUp = false; gw.kill('SIGKILL'); });
  console.log(`t=${((Date.now() - t0) / 1000).toFixed(0)} s: gateway killed (SIGKILL); restarting`);
  gw = await startGateway();
  gatewayUp = true;
  await sleep(Math.max(0, (OUTAGE - KILL_AT) * 1000 - (Date.now() - outageAt - KILL_AT * 1000)));
} else {
  await sleep(OUTAGE * 1000);
}
await sink.start(sink.port);
const recoveredAt = Date.now();
console.log(`t=${((recoveredAt - t0) / 1000).toFixed(0)} s: endpoint back; ${sink.received.length} delivered so far, buffer ${(bufferBytes() / 1e6).toFixed(1)} MB`);
await sending;
const deadline = Date.now() + Number(values.drain) * 1000;
const seen = () => new Set(sink.received.map((s) => Number(s.slice(1, s.indexOf(' '))))).size;
let caughtUpAt: number | undefined;
while (Date.now() < deadline) {
  if (seen() >= sent - sentWhileDown) { caughtUpAt = Date.now(); break; }
  await sleep(200);
}
clearInterval(sampler);
const ids = sink.received.map((s) => Number(s.slice(1, s.indexOf(' '))));
const unique = new Set(ids);
let outOfOrder = 0;
for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[i - 1]!) outOfOrder++;
const lostWhileUp: number[] = [];
for (let i = 0; i < sent; i++) if (!unique.has(i) && !downSet.has(i)) lostWhileUp.push(i);
console.log(JSON.stringify({
  rate: RATE, outageSeconds: OUTAGE, killAtSeconds: KILL_AT ?? null, fsync: values.fsync, payloadBytes: Math.max(SIZE, 12),
  sent, sentWhileGatewayDown: sentWhileDown, delivered: unique.size, duplicates: ids.length - unique.size, outOfOrder,
  lostWhileGatewayUp: lostWhileUp.length, lostIds: lostWhileUp.length ? `${lostWhileUp[0]}..${lostWhileUp.at(-1)}` : '',
  maxBufferMB: +(maxBufferBytes / 1e6).toFixed(1), backlogDrainedSeconds: caughtUpAt ? +((caughtUpAt - recoveredAt) / 1000).toFixed(1) : null,
}, null, 1));
gw.kill('SIGTERM');
await new Promise((r) => gw.once('exit', r));
client.close();
await sink.stop();
