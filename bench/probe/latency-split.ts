/**
 * Where does the udp proxy's one-way latency go? Runs the gateway in this process (pin it:
 * `taskset -c 1`), the C sender and sink on CPU 0, and splits each timestamped datagram's
 * latency into sender → JS receive callback (measured here, CLOCK_MONOTONIC like the sender)
 * and the total at the sink. Loopback only, bounded.
 *   RATE=50000 taskset -c 1 node --import tsx bench/probe/latency-split.ts
 * Environment: RATE (datagrams/s, default 50000), SIZE (bytes, 64), PHASES (3 s phases at RATE
 * after a 2 s burst, 1), FORWARDER=1 (a bare native forwarder instead of the gateway, the floor),
 * ADMIN=1 (with the admin API), HEAP_PROF=1 (top allocation sites of the last phase),
 * TRACE_MARKS=1 (print "=== window N start/end" to line up with --trace-gc / --trace-opt output).
 * Per phase: sender → JS-receive percentiles, gaps between receive callbacks, GCs (scavenges and
 * others) and the gaps they overlap, and each thread's CPU and run-queue wait (/proc schedstat).
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Tool, buildUdpbench, freePort } from '../proxies.js';
import { resolveConfig } from '../../app/config/load.js';
import { runGateway } from '../../app/run.js';
import { selectTransport } from '../../net/select.js';
import type { TransportFactory } from '../../gateway/extension/transport.js';
import { createLogger } from '../../gateway/logger.js';

const rate = Number(process.env.RATE ?? 50000);
const size = process.env.SIZE ?? '64';
const MAGIC = 0x55475742454e4348n;
const hist = new Float64Array(200_001); // 1 µs buckets
const bigGaps: [number, number][] = [], gcs: [number, number, number][] = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) gcs.push([e.startTime, e.duration, (e as unknown as { detail?: { kind: number } }).detail?.kind ?? 0]); }).observe({ entryTypes: ['gc'] });
let n = 0, batches = 0, maxBatch = 0;
const turnGap = new Float64Array(200_001); let lastTurn = 0n;

const base = selectTransport('native', createLogger('warn'));
const transport: TransportFactory = {
  kind: base.kind,
  bind: (opts, onBatch, onError) => base.bind(opts, (batch) => {
    const now = process.hrtime.bigint();
    if (lastTurn) { const g = Number((now - lastTurn) / 1000n); turnGap[Math.min(g, 200_000)]++; if (g > 1000) bigGaps.push([performance.now() - g / 1000, g / 1000]); }
    lastTurn = now;
    batches++; if (batch.length > maxBatch) maxBatch = batch.length;
    for (const d of batch) {
      if (d.data.length >= 16 && d.data.readBigUInt64LE(0) === MAGIC) {
        const us = Number((now - d.data.readBigUInt64LE(8)) / 1000n);
        hist[Math.min(us, 200_000)]++; n++;
      }
    }
    onBatch(batch);
  }, onError),
};
const pct = (h: Float64Array, total: number, p: number) => { let s = 0; for (let i = 0; i < h.length; i++) { s += h[i]!; if (s > p * total) return i; } return -1; };

const bin = buildUdpbench();
const sink = new Tool(bin, ['sink', '30'], '0');
const sinkPort = await sink.port, port = await freePort();
const cfg = resolveConfig({
  secret: 'bench-secret-0123456789abcdef', log: { level: 'warn' }, admin: { enabled: process.env.ADMIN === '1' },
  listeners: [{ name: 'bench', host: '127.0.0.1', port, receiveBufferBytes: 4 << 20, sendBufferBytes: 4 << 20,
    destinations: [{ name: 'sink', type: 'udp', backends: [`127.0.0.1:${sinkPort}`] }] }],
}, process.cwd());
// FORWARDER=1: no gateway, the receive callback sends each batch on to the sink (the floor).
let fwd: import('../../gateway/extension/transport.js').UdpTransport | undefined;
const gw = process.env.FORWARDER === '1'
  ? await (async () => {
    fwd = await transport.bind({ host: '127.0.0.1', port, maxDatagramBytes: 2048, receiveBufferBytes: 4 << 20 }, (b) => fwd!.sendDatagrams(b.map((d) => ({ data: d.data, address: '127.0.0.1', port: sinkPort }))), () => {});
    return { stop: () => fwd!.close() };
  })()
  : await runGateway(cfg, { transport });
const warm = new Tool(bin, ['gen', String(port), size, process.env.BURST_S ?? '2', String(rate * Number(process.env.BURST_S ?? 2) * 4), '0', '16'], '0', true);
await warm.done;
await new Promise((r) => setTimeout(r, 500));
const { readdirSync, readFileSync } = await import('node:fs');
const schedstat = () => new Map(readdirSync('/proc/self/task').map((t) => [t, readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').trim().split(' ').map(Number)] as const));
/** HEAP_PROF=1: sampling heap profile of the last phase, garbage included; top sites by bytes. */
async function startHeapSampling(): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling') as { profile: { head: Node } };
    type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
    const sites = new Map<string, number>();
    const walk = (node: Node) => {
      const f = node.callFrame, key = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(main|node_modules)\//, '')}:${f.lineNumber + 1}`;
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      node.children.forEach(walk);
    };
    walk(profile.head);
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    console.log(`  allocated (sampled) ${(total / 1e6).toFixed(1)} MB = ${(total / n).toFixed(0)} B per packet; top sites:`);
    for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`    ${(v / n).toFixed(0).padStart(5)} B/packet  ${k}`);
    session.disconnect();
  };
}
/** Steal ticks (1/100 s) summed over the CPUs in this process's affinity (all when unknown). */
function stealTicks(): number {
  const allowed = readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)?.[1] ?? '';
  const cpus = new Set<number>();
  for (const part of allowed.split(',')) { const [a, b] = part.split('-').map(Number); for (let c = a!; c <= (b ?? a!); c++) cpus.add(c); }
  let sum = 0;
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (m && (cpus.size === 0 || cpus.has(Number(m[1])))) sum += Number(m[2]!.trim().split(/\s+/)[7]);
  }
  return sum;
}
const phases = Number(process.env.PHASES ?? 1);
for (let phase = 1; phase <= phases; phase++) {
  hist.fill(0); bigGaps.length = 0; gcs.length = 0; n = 0; batches = 0; maxBatch = 0; turnGap.fill(0); lastTurn = 0n;
  const before = schedstat();
  const steal0 = stealTicks();
  const sampling = process.env.HEAP_PROF && phase === phases ? await startHeapSampling() : undefined;
  if (process.env.TRACE_MARKS) console.log(`=== window ${phase} start`);
  const lat = new Tool(bin, ['gen', String(port), size, '3', String(rate * 3), String(rate), '16'], '0');
  await lat.done;
  const after = schedstat();
  const stolen = stealTicks() - steal0;
  if (sampling) await sampling();
  if (process.env.TRACE_MARKS) console.log(`=== window ${phase} end`);
  const gaps = turnGap.reduce((a, b) => a + b, 0);
  console.log(`phase ${phase}, rate ${rate}/s  sender→JS receive: p50 ${pct(hist, n, 0.5)} p99 ${pct(hist, n, 0.99)} p99.9 ${pct(hist, n, 0.999)} µs (n ${n})`);
  console.log(`  batches ${batches}, mean ${(n / batches).toFixed(1)}, max ${maxBatch}; gap between receive callbacks p50 ${pct(turnGap, gaps, 0.5)} p99 ${pct(turnGap, gaps, 0.99)} max ${pct(turnGap, gaps, 1 - 1e-9)} µs; gaps > 1 ms: ${bigGaps.length}`);
  const major = gcs.filter((g) => g[2] !== 1); // kind 1: scavenge; 2 minor mark-sweep, 4 mark-compact, 8 incremental, 16 weak callbacks
  console.log(`  GCs: ${gcs.length}, total ${gcs.reduce((a, g) => a + g[1], 0).toFixed(1)} ms (not scavenges: ${major.length}, ${major.reduce((a, g) => a + g[1], 0).toFixed(1)} ms); gaps > 1 ms during a GC: ${bigGaps.filter(([t, d]) => gcs.some(([gt, gd]) => gt < t + d && gt + gd > t)).length}`);
  console.log(`  hypervisor steal on the CPUs this process may use: ${stolen * 10} ms in the phase (/proc/stat)`);
  for (const [t, [ran, waited, slices]] of after) {
    const [r0, w0, s0] = before.get(t) ?? [0, 0, 0];
    if (ran - r0 > 1e6 || waited - w0 > 1e6) console.log(`  thread ${t}: ran ${((ran - r0) / 1e6).toFixed(0)} ms, waited for a CPU ${((waited - w0) / 1e6).toFixed(0)} ms, slices ${slices - s0}`);
  }
}
await new Promise((r) => setTimeout(r, 500));
await gw.stop();
await sink.stop();
console.log(`sender→sink over all phases: p50 ${sink.lat.p50} p99 ${sink.lat.p99} max ${sink.lat.max} µs`);
process.exit(0);
