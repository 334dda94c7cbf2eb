/**
 * Cluster mode (issue 11), measured on real processes and a real Redis (a redis-server started here
 * on a free port, so INFO commandstats counts only this run):
 *   1. Redis commands per 1,000 received packets, and writes per client per egress window, with
 *      --clients flows sending --rate packets/s in all to node A for --seconds;
 *   2. Redis memory per flow key: MEMORY USAGE on the real keys, and used_memory's growth per key;
 *   3. out-of-band packets per second submitted to the owner node vs to another node (forwarded);
 *   4. added latency, POST /v1/send → datagram at the client, same node vs across nodes.
 * Bounded: every phase has a packet count and a deadline.
 *   node --import tsx bench/cluster.ts [--clients=500] [--rate=5000] [--seconds=12] [--window=6] [--docs=100] [--per-doc=100] [--samples=300]
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startGateway, stopAll } from '../test/support/cli.js';
import { freeTcpPort, freeUdpPort, keysUnder, startRedis, stopProcess, until } from '../test/cluster/support.js';

const { values } = parseArgs({ options: {
  clients: { type: 'string', default: '500' }, rate: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '12' },
  window: { type: 'string', default: '6' }, docs: { type: 'string', default: '100' }, 'per-doc': { type: 'string', default: '100' },
  samples: { type: 'string', default: '300' },
} });
const CLIENTS = Number(values.clients), RATE = Number(values.rate), SECONDS = Number(values.seconds), WINDOW = Number(values.window);
const DOCS = Number(values.docs), PER_DOC = Number(values['per-doc']), SAMPLES = Number(values.samples);
const TOKEN = 'cluster-bench-token';
const HOSTS = ['127.0.0.2', '127.0.0.3'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redisPort = await freeTcpPort();
const server = await startRedis(redisPort);
const redis = new Redis(`redis://127.0.0.1:${redisPort}`);
const port = await freeUdpPort(HOSTS);
const dir = mkdtempSync(join(tmpdir(), 'udpgw-cluster-bench-'));
const prefix = 'bench:';

async function node(host: string, id: string) {
  const cfg = join(dir, `${id}.json`);
  writeFileSync(cfg, JSON.stringify({
    secret: 'cluster-bench-secret-0123456789', admin: { port: 0, token: TOKEN }, log: { level: 'warn' },
    egress: { recentClientSeconds: WINDOW, maxRecentClients: CLIENTS * 2 },
    cluster: { redis: `redis://127.0.0.1:${redisPort}`, nodeId: id, keyPrefix: prefix },
    listeners: [{ name: 'edge', host, port, receiveBufferBytes: 4_194_304, destinations: [{ type: 'file', path: `${id.slice(-20)}.ndjson`, raw: true, batch: { maxPackets: 1000, lingerMs: 50 } }] }],
  }));
  const run = await startGateway(['start', '--config', cfg]);
  return { id, url: run.adminUrl!, run };
}
// Node ids as long as real ones (the default is <hostname>-<pid>; on Fargate the hostname is the task's private DNS name).
const ID_A = 'ip-10-0-12-34.eu-west-1.compute.internal-17', ID_B = 'ip-10-0-56-78.eu-west-1.compute.internal-17';
const [a, b] = [await node(HOSTS[0]!, ID_A), await node(HOSTS[1]!, ID_B)];
const progress = (s: string) => process.stderr.write(`${s}\n`);
progress("nodes up");
const status = async (n: { url: string }) => (await (await fetch(`${n.url}/v1/status`)).json()) as { cluster: { bus: { roundTrips: number; commands: number }; directory: { written: number; flushes: number } } };
const metric = async (n: { url: string }, name: string) => {
  const line = (await (await fetch(`${n.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

async function commandstats(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}
const delta = (x: Map<string, number>, y: Map<string, number>) => {
  const d: Record<string, number> = {};
  for (const [k, v] of y) if (!['info', 'scan', 'memory|usage', 'memory', 'dbsize', 'config|resetstat', 'ping'].includes(k) && v - (x.get(k) ?? 0) > 0) d[k] = v - (x.get(k) ?? 0);
  return d;
};

// 1. Steady traffic from CLIENTS flows to node A.
const sockets: Socket[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  sockets.push(s);
}
const memBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const before = await commandstats();
const statsBefore = await status(a);
const payload = Buffer.alloc(64, 1);
const started = Date.now();
let sent = 0;
const perTick = Math.max(1, Math.round(RATE / 100));
while (Date.now() - started < SECONDS * 1000 && sent < RATE * SECONDS) {
  for (let i = 0; i < perTick; i++) { sockets[sent % CLIENTS]!.send(payload, port, HOSTS[0]); sent++; }
  await sleep(10);
}
await sleep(1500); // one flush interval plus margin: the last writes are counted
const elapsed = (Date.now() - started) / 1000;
const after = await commandstats();
const statsAfter = await status(a);
const received = await metric(a, 'udpgw_packets_received_total');
const cmds = delta(before, after);
const total = Object.values(cmds).reduce((x, y) => x + y, 0);
const written = statsAfter.cluster.directory.written - statsBefore.cluster.directory.written;
const roundTrips = statsAfter.cluster.bus.roundTrips - statsBefore.cluster.bus.roundTrips;

progress("ingress done");
// 2. Memory per key, on the keys just written.
const keys = (await keysUnder(redis, `${prefix}c:`)).slice(0, 200);
const usage = await Promise.all(keys.map((k) => redis.call('MEMORY', 'USAGE', k) as Promise<number>));
const flowKeys = (await keysUnder(redis, `${prefix}c:`)).length;
const memAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);

progress("memory done");
// 3. Throughput: documents of PER_DOC packets to one client whose flow is on A, submitted to A, then to B.
const client = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
let got = 0, lastAt = 0;
let onGot: (() => void) | undefined;
client.on('message', () => { got++; lastAt = performance.now(); onGot?.(); });
client.send('hi', port, HOSTS[0]);
// A real client keeps its flow (and NAT mapping) alive: once a second, well inside the --window.
const keepalive = setInterval(() => client.send('keepalive', port, HOSTS[0]), 1000);
await until(async () => (await redis.get(`${prefix}c:edge:127.0.0.1:${client.address().port}`)) === ID_A, 10_000, 'client owned by A');
const doc = (n: number) => JSON.stringify({ Messages: Array.from({ length: n }, () => ({ Data: 'cGluZw==', Remote: { Address: '127.0.0.1', Port: client.address().port } })) });
const post = (n: { url: string }, body: string) => fetch(`${n.url}/v1/send`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body }).then((r) => r.arrayBuffer());
async function throughput(target: { url: string }): Promise<{ pps: number; received: number; expected: number }> {
  got = 0;
  const body = doc(PER_DOC);
  const t0 = performance.now();
  for (let i = 0; i < DOCS; i += 4) await Promise.all(Array.from({ length: Math.min(4, DOCS - i) }, () => post(target, body)));
  const expected = DOCS * PER_DOC;
  await until(() => got >= expected, 5_000, 'all datagrams').catch(() => {}); // a datagram the client socket dropped never comes
  return { pps: Math.round(got / ((lastAt - t0) / 1000)), received: got, expected };
}
const sameTput = await throughput(a);
progress("same-node throughput done");
const crossTput = await throughput(b);

progress("throughput done");
// 4. Latency: one packet per request, sequential.
async function latency(target: { url: string }): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  const body = doc(1);
  for (let i = 0; i < SAMPLES; i++) {
    const before = got;
    const t0 = performance.now();
    const arrived = new Promise<void>((r) => { onGot = () => { if (got > before) r(); }; });
    void post(target, body);
    await Promise.race([arrived, sleep(1000)]);
    ms.push(performance.now() - t0);
  }
  onGot = undefined;
  ms.sort((x, y) => x - y);
  return { p50: ms[Math.floor(ms.length * 0.5)]!, p99: ms[Math.floor(ms.length * 0.99)]! };
}
await latency(a); // warm-up
const sameLat = await latency(a);
const crossLat = await latency(b);

const r2 = (x: number) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  config: { clients: CLIENTS, rate: RATE, seconds: SECONDS, windowSeconds: WINDOW, flushMs: 1000, heartbeatMs: 2000, nodes: 2 },
  ingress: {
    packetsReceived: received, seconds: r2(elapsed), redisCommands: cmds, redisCommandsTotal: total,
    redisCommandsPer1000Packets: r2((total / received) * 1000), roundTripsNodeA: roundTrips, roundTripsPerSecondNodeA: r2(roundTrips / elapsed),
    flowWrites: written, writesPerClientPerWindow: r2(written / CLIENTS / (elapsed / WINDOW)),
  },
  memory: { flowKeys, memoryUsageBytesAvg: r2(usage.reduce((x, y) => x + y, 0) / usage.length), usedMemoryGrowthPerKey: r2((memAfter - memBefore) / flowKeys) },
  outOfBand: {
    sameNode: { ...sameTput, ...mapMs(sameLat) }, acrossNodes: { ...crossTput, ...mapMs(crossLat) },
    addedLatencyMs: { p50: r2(crossLat.p50 - sameLat.p50), p99: r2(crossLat.p99 - sameLat.p99) },
  },
}, null, 2));
function mapMs(l: { p50: number; p99: number }) { return { latencyMsP50: r2(l.p50), latencyMsP99: r2(l.p99) }; }

clearInterval(keepalive);
client.close();
for (const s of sockets) s.close();
stopAll();
redis.disconnect();
await stopProcess(server);
