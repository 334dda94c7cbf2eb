/**
 * Per-packet cost of the gateway's hot path, in ns of this process's CPU (user + system), for the
 * udp proxy path: tag (HMAC), Listener.onBatch (stages, tag, recent clients, fan-out), the
 * DestinationRunner (queue, batcher, in-flight, retry wrapper, metrics) with a no-op destination,
 * the udp destination's send (per-session upstream socket) to a C sink, and the whole pipeline from
 * a received batch to the upstream socket. No receive system calls: batches are handed in directly.
 *   node --import tsx bench/hot-path.ts [--packets=200000] [--batch=1024] [--size=64]
 * Loopback only (the sink is 127.0.0.1), bounded in count.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadNativeAddon } from '../net/native-addon.js';
import { createTagCodec } from '../gateway/tag.js';
import { selectTagMac } from '../net/tag-mac.js';
import { Metrics } from '../gateway/metrics.js';
import { FlowDirectory } from '../gateway/cluster/flow-directory.js';
import type { ClusterBus } from '../gateway/cluster/bus.js';
import { Listener } from '../gateway/listener.js';
import { DestinationRunner } from '../gateway/fanout/runner.js';
import { resolveConfig } from '../app/config/load.js';
import { createGateway } from '../app/gateway.js';
import { delivered, type Destination } from '../gateway/extension/destination.js';
import { createUdpDestination } from '../destinations/udp/index.js';
import type { Datagram, Packet } from '../gateway/packet.js';
import type { BatchHandler, TransportFactory } from '../gateway/extension/transport.js';
import { rulesRouterKind } from '../routers/rules/manifest.js';
import { moduleRouterKind } from '../routers/module/manifest.js';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const PACKETS = Number(arg('packets', '200000'));
const BATCH = Number(arg('batch', '1024'));
const SIZE = Number(arg('size', '64'));
const FLOWS = 16;
const logger = pino({ level: 'silent' });
const secret = Buffer.from('bench-secret-0123456789abcdef');

const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
const turn = () => new Promise<void>((r) => setImmediate(r));

/** CPU ns per packet of `work(batchIndex)` run over PACKETS packets in batches (awaited between). */
async function perPacket(work: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await work(i); // warm-up (JIT)
  const batches = Math.ceil(PACKETS / BATCH);
  const c0 = cpuNs();
  for (let i = 0; i < batches; i++) await work(i);
  return (cpuNs() - c0) / (batches * BATCH);
}

function datagrams(): Datagram[] {
  const data = Buffer.alloc(SIZE, 120);
  return Array.from({ length: BATCH }, (_, i) => ({ data, address: '127.0.0.1', port: 40_000 + (i % FLOWS) }));
}

function config(destinations: unknown[]) {
  return resolveConfig({ secret: secret.toString(), admin: { enabled: false }, log: { level: 'silent' },
    listeners: [{ name: 'bench', host: '127.0.0.1', port: 0, destinations }] }, process.cwd());
}

/** A transport that binds nothing: the bench calls the captured onBatch itself. */
function fakeTransport(): { factory: TransportFactory; onBatch: () => BatchHandler } {
  let handler: BatchHandler | undefined;
  const factory: TransportFactory = { kind: 'fake', bind: async (_o, onBatch) => {
    handler = onBatch;
    return { kind: 'fake', local: { address: '127.0.0.1', port: 5555 }, sendDatagrams: () => 0, pause: () => {}, close: async () => {} };
  } };
  return { factory, onBatch: () => handler! };
}

async function cSink(): Promise<{ port: number; stop: () => void }> {
  const bin = join(mkdtempSync(join(tmpdir(), 'udpbench-')), 'udpbench');
  execFileSync('cc', ['-O2', '-o', bin, fileURLToPath(new URL('./native/udpbench.c', import.meta.url))], { stdio: 'inherit' });
  const child = spawn(bin, ['sink', '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout.on('data', (d: Buffer) => { const m = /port (\d+)/.exec(d.toString()); if (m) r(Number(m[1])); }));
  return { port, stop: () => child.kill('SIGTERM') };
}

async function idle(runners: readonly DestinationRunner[]): Promise<void> {
  for (let i = 0; i < 10_000 && runners.some((r) => r.queued > 0 || r.inFlight > 0); i++) await turn();
}

const noop: Destination = { kind: 'noop', name: 'noop', sendBatch: async (b) => ({ outcomes: b.map(() => delivered) }) };

async function main(): Promise<void> {
  const batch = datagrams();
  const rows: [string, number][] = [];
  const codec = createTagCodec({ secret, replyWindowMs: 60_000, mac: selectTagMac() });
  const now = Date.now();
  // Both HMAC implementations, interleaved (the machine's speed drifts between runs).
  const macs = loadNativeAddon().addon?.TagMac ? (['node', 'native'] as const) : (['node'] as const);
  for (const mac of macs) {
    const c = createTagCodec({ secret, replyWindowMs: 60_000, mac: selectTagMac(mac) });
    const tag = c.encode('bench', batch[0]!, now);
    rows.push([`tag: encode, ${mac === 'node' ? 'node:crypto' : 'addon'} HMAC-SHA256`, await perPacket(() => { for (const d of batch) c.encode('bench', d, now); })]);
    rows.push([`tag: decode (reply path), ${mac === 'node' ? 'node:crypto' : 'addon'} HMAC-SHA256`, await perPacket(() => { for (let i = 0; i < batch.length; i++) c.decode(tag); })]);
  }

  const cfg = config([{ type: 'udp', backends: ['127.0.0.1:9'] }]);
  const counting = { enqueue: () => true, hold: () => {}, flush: () => {} } as unknown as DestinationRunner;
  const fake = fakeTransport();
  const listener = new Listener(cfg.listeners[0]!, { codec, metrics: new Metrics(), logger, transport: fake.factory, formatter: 'base64', recentClientMs: 3_600_000, maxRecentClients: 100_000 });
  await listener.start([counting]);
  rows.push(['Listener onBatch, no-op runner (tag not read, so not computed)', await perPacket(() => fake.onBatch()(batch))]);
  const reading = { enqueue: (p: Packet) => p.tag.length > 0, hold: () => {}, flush: () => {} } as unknown as DestinationRunner;
  const tagged = fakeTransport();
  const withTag = new Listener(cfg.listeners[0]!, { codec, metrics: new Metrics(), logger, transport: tagged.factory, formatter: 'base64', recentClientMs: 3_600_000, maxRecentClients: 100_000 });
  await withTag.start([reading]);
  rows.push(['Listener onBatch, a runner that reads the tag (handler, queue destinations)', await perPacket(() => tagged.onBatch()(batch))]);
  // Cluster mode (docs/cluster.md): the flow directory's hook on every plain datagram; steady
  // clients, so after the first batch it is the Map lookup alone (the bus is never reached here).
  const clustered = fakeTransport();
  const withDirectory = new Listener(cfg.listeners[0]!, { codec, metrics: new Metrics(), logger, transport: clustered.factory, formatter: 'base64', recentClientMs: 3_600_000, maxRecentClients: 100_000 });
  await withDirectory.start([counting]);
  const directory = new FlowDirectory({ bus: {} as ClusterBus, prefix: 'bench:', ttlMs: 3_600_000, flushMs: 1000, maxPending: 100_000, maxFlows: 100_000, ownerCacheMs: 1000, count: () => {} });
  withDirectory.onClient = directory.seenOn('bench');
  rows.push(['Listener onBatch, no-op runner, cluster flow directory hook (steady clients)', await perPacket(() => clustered.onBatch()(batch))]);

  const packets: Packet[] = batch.map((d) => ({ tag: 't', listener: 'bench', remote: d, local: d, receivedAt: now, data: d.data, formatter: 'base64' }));
  const runner = new DestinationRunner('bench', noop, cfg.listeners[0]!.destinations[0]!, { metrics: new Metrics(), logger, onReplies: () => {} });
  let enqueueNs = 0, enqueued = 0;
  await perPacket(async () => {
    const t0 = process.hrtime.bigint();
    for (const p of packets) runner.enqueue(p);
    enqueueNs += Number(process.hrtime.bigint() - t0);
    enqueued += packets.length;
    await idle([runner]);
  });
  rows.push(['DestinationRunner.enqueue alone (synchronous part, wall time)', enqueueNs / enqueued]);
  rows.push(['DestinationRunner enqueue → batch → send → outcomes (no-op destination)', await perPacket(async () => { for (const p of packets) runner.enqueue(p); await idle([runner]); })]);

  const sink = await cSink();
  try {
    const udp = await createUdpDestination('u', { backends: [`127.0.0.1:${sink.port}`] }, { logger, clients: { replyByTag: () => true, sendToClient: () => {} }, baseDir: '/' });
    const signal = new AbortController().signal;
    rows.push([`udp destination send (batches of 100, ${FLOWS} sessions, to a C sink)`, await perPacket(async () => { for (let i = 0; i < BATCH; i += 100) await udp.sendBatch(packets.slice(i, i + 100), signal); })]);
    await udp.close?.();

    const gwFake = fakeTransport();
    const gw = await createGateway(config([{ type: 'udp', backends: [`127.0.0.1:${sink.port}`] }]), { logger, transport: gwFake.factory });
    rows.push(['whole path: onBatch → udp destination → upstream socket', await perPacket(async () => { gwFake.onBatch()(batch); await idle(gw.runners); })]);
    await gw.close();
  } finally { sink.stop(); }

  rows.push(...await routerRows(packets));

  console.log(`per-packet CPU (user+system) of one process, ${PACKETS} packets of ${SIZE} B in batches of ${BATCH}, ${FLOWS} clients`);
  console.log('| stage | ns/packet |\n| --- | ---: |');
  for (const [name, ns] of rows) console.log(`| ${name} | ${Math.round(ns)} |`);
}

/**
 * A new session's decision by the `rules` router (a byte-range expression, a prefix, a network; the
 * third rule matches) and by the `module` router (a user's function, sync and async), per call of
 * route(): what a new session costs beyond opening its socket. Per packet = per new session here.
 */
async function routerRows(packets: Packet[]): Promise<[string, number][]> {
  const ctx = { logger, baseDir: '/', destination: 'bench', backends: [], resolve: async (l: readonly string[]) => l.map((label) => ({ address: '127.0.0.1', port: Number(label.split(':')[1]), family: 4 as const, label })),
    sessions: { endClient: () => 0, endUpstreamPort: () => 0 }, countDrop: () => {} };
  const req = (p: Packet) => ({ listener: p.listener, remote: p.remote, local: p.local, data: [p.data], failed: [] });
  const reqs = packets.map(req);
  const rules = await (await rulesRouterKind.load())({ pools: { a: { backends: ['127.0.0.1:1'] }, b: { backends: ['127.0.0.1:2'] }, c: { backends: ['127.0.0.1:3', '127.0.0.1:4'], balance: 'consistent-hash' } },
    rules: [{ expression: '${data[0:2]:hex}', equals: 'fe01', pool: 'a' }, { prefixText: 'GET ', pool: 'b' }, { network: ['127.0.0.0/8'], pool: 'c' }] }, ctx);
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-bench-router-'));
  writeFileSync(join(dir, 'sync.mjs'), 'export function route(ctx) { return ctx.data[0] === 0x78 ? { remote: "127.0.0.1:9" } : { close: true }; }');
  writeFileSync(join(dir, 'async.mjs'), 'export async function route(ctx) { return ctx.data[0] === 0x78 ? { remote: "127.0.0.1:9" } : { close: true }; }');
  const syncModule = await (await moduleRouterKind.load())({ module: join(dir, 'sync.mjs'), export: 'route', timeoutMs: 1000 }, ctx);
  const asyncModule = await (await moduleRouterKind.load())({ module: join(dir, 'async.mjs'), export: 'route', timeoutMs: 1000 }, ctx);
  return [
    ['session decision: rules router (3 rules, the third matches, consistent-hash pool)', await perPacket(() => { for (const r of reqs) rules.route(r); })],
    ['session decision: module router, a sync function', await perPacket(() => { for (const r of reqs) syncModule.route(r); })],
    ['session decision: module router, an async function (with its time limit)', await perPacket(() => Promise.all(reqs.map((r) => asyncModule.route(r))))],
  ];
}

await main();
