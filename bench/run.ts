/**
 * npm run bench [-- --scenario proxy|handler|fanout] [--size 64|1200] [--seconds N] [--workers N]
 * npm run bench -- --side-by-side [options of bench/side-by-side.ts]: gateway vs nginx udp proxy
 *
 * Drives the gateway (a separate process, as users run it) over loopback and prints, per scenario
 * and payload size: throughput (packets/s), loss, the gateway's CPU time per packet at the peak (its
 * process with all its threads: the handler's workers included), and latency p50/p99 at half of the
 * measured peak (after 3 s of that same load, not counted). The gateway is the built CLI (dist/, built first).
 *   proxy   — udp destination round trip: client → gateway → UDP echo backend → gateway → client
 *   handler — handler request/response: client → gateway → echo handler (worker threads) → client
 *   handler-in-process — the same with `isolation: in-process` (no worker-thread hop per batch)
 *   fanout  — every packet to two udp sinks (StatsD dual-write); forwarded packets/s counted at the sinks
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { blast, closedLoop, echoBackend, openLoop, percentile, sink } from './load.js';
import { builtCli, treeCpuSeconds } from './proxies.js';

const ROOT = resolve(import.meta.dirname, '..');
if (process.argv.includes('--side-by-side')) {
  const { runSideBySide } = await import('./side-by-side.js');
  process.exit(await runSideBySide(process.argv.slice(2).filter((a) => a !== '--side-by-side')));
}
const { values } = parseArgs({ options: {
  scenario: { type: 'string', multiple: true }, size: { type: 'string', multiple: true },
  seconds: { type: 'string', default: '4' }, window: { type: 'string', default: '256' },
  'max-packets': { type: 'string', default: '2000000' },
} });
const SECONDS = Number(values.seconds);
const MAX = Number(values['max-packets']);
const WINDOW = Number(values.window);
/** Latency is that of the steady state: the half-peak load runs this long first (the JIT's first
 *  seconds after the load changes shape add ms-long tails; docs/performance.md). */
const LATENCY_WARMUP_S = 3;

interface Row { scenario: string; size: number; pps: number; loss: number; cpuUs: number; p50: number; p99: number; halfLoss: number; command: string }

async function startGateway(destinations: unknown[]): Promise<{ proc: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-bench-'));
  const cfg = join(dir, 'bench.json');
  writeFileSync(cfg, JSON.stringify({
    secret: 'bench-secret-0123456789abcdef', log: { level: 'warn' }, admin: { enabled: false },
    listeners: [{ name: 'bench', host: '127.0.0.1', port: 0, receiveBufferBytes: 8 << 20, sendBufferBytes: 8 << 20, destinations }],
  }));
  const proc = spawn(process.execPath, [builtCli(), 'start', '--config', cfg], {
    cwd: ROOT, env: { ...process.env, UDPGW_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((res, rej) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"listening"/.test(buf) && /"port":(\d+)/.exec(buf.slice(buf.indexOf('"address"')));
      if (m) res(Number(m[1]));
    });
    proc.on('exit', (c) => rej(new Error(`gateway exited ${c}`)));
  });
  return { proc, port };
}

async function stop(proc: ChildProcess): Promise<void> {
  const done = new Promise((r) => proc.on('exit', r));
  proc.kill('SIGTERM');
  await done;
}

const cmd = (s: string, size: number) => `npm run bench -- --scenario ${s} --size ${size} --seconds ${SECONDS}`;

async function requestResponse(scenario: string, size: number, destinations: unknown[]): Promise<Row> {
  const gw = await startGateway(destinations);
  try {
    await closedLoop(gw.port, size, 16, 0.5, MAX); // warm-up
    const cpu0 = treeCpuSeconds(gw.proc.pid!);
    const peak = await closedLoop(gw.port, size, WINDOW, SECONDS, MAX);
    const cpuUs = (treeCpuSeconds(gw.proc.pid!) - cpu0) / Math.max(1, peak.received) * 1e6;
    const pps = peak.received / peak.seconds;
    await openLoop(gw.port, size, Math.max(1, Math.floor(pps / 2)), LATENCY_WARMUP_S); // the same load first, not counted
    const half = await openLoop(gw.port, size, Math.max(1, Math.floor(pps / 2)), Math.min(SECONDS, 3));
    return {
      scenario, size, pps, loss: 1 - peak.received / peak.sent, cpuUs,
      p50: percentile(half.latenciesUs, 50), p99: percentile(half.latenciesUs, 99), halfLoss: 1 - half.received / half.sent, command: cmd(scenario, size),
    };
  } finally { await stop(gw.proc); }
}

async function fanout(size: number): Promise<Row> {
  const a = await sink(), b = await sink();
  const gw = await startGateway(['a', 'b'].map((name, i) => ({ name, type: 'udp', replies: false, backends: [`127.0.0.1:${(i ? b : a).socket.address().port}`] })));
  try {
    await blast(gw.port, size, 0.5, MAX); // warm-up
    const [a0, b0] = [a.count(), b.count()];
    const cpu0 = treeCpuSeconds(gw.proc.pid!);
    const r = await blast(gw.port, size, SECONDS, MAX);
    const forwarded = Math.min(a.count() - a0, b.count() - b0);
    const cpuUs = (treeCpuSeconds(gw.proc.pid!) - cpu0) / Math.max(1, forwarded) * 1e6;
    const pps = forwarded / r.seconds;
    await openLoop(gw.port, size, Math.max(1, Math.floor(pps / 2)), LATENCY_WARMUP_S); // the same load first, not counted
    await new Promise((r) => setTimeout(r, 200));
    a.latencies.length = 0; b.latencies.length = 0;
    const [a1, b1] = [a.count(), b.count()];
    const half = await openLoop(gw.port, size, Math.max(1, Math.floor(pps / 2)), Math.min(SECONDS, 3));
    const halfForwarded = Math.min(a.count() - a1, b.count() - b1);
    return {
      scenario: 'fanout', size, pps, loss: 1 - forwarded / r.sent, cpuUs,
      p50: percentile([...a.latencies, ...b.latencies], 50), p99: percentile([...a.latencies, ...b.latencies], 99),
      halfLoss: 1 - halfForwarded / half.sent, command: cmd('fanout', size),
    };
  } finally { await stop(gw.proc); a.socket.close(); b.socket.close(); }
}

async function runScenario(s: string, size: number): Promise<Row> {
  if (s === 'fanout') return fanout(size);
  if (s === 'handler' || s === 'handler-in-process') {
    return requestResponse(s, size, [{ type: 'handler', module: join(ROOT, 'examples/echo-handler.mjs'), workers: 2, isolation: s === 'handler' ? 'worker' : 'in-process' }]);
  }
  const backend = await echoBackend();
  try {
    return await requestResponse(s, size, [{ type: 'udp', backends: [`127.0.0.1:${backend.address().port}`] }]);
  } finally { backend.close(); }
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

async function main(): Promise<void> {
  const scenarios = values.scenario ?? ['proxy', 'handler', 'handler-in-process', 'fanout'];
  const sizes = (values.size ?? ['64', '1200']).map(Number);
  const rows: Row[] = [];
  for (const s of scenarios) for (const size of sizes) {
    const r = await runScenario(s, size);
    rows.push(r);
    process.stderr.write(`${s} ${size} B: ${fmt(r.pps)} pps, ${fmt(r.cpuUs, 1)} µs CPU per packet\n`);
  }
  console.log('| scenario | payload | peak packets/s | loss at peak | gateway CPU µs per packet at peak | p50 µs @ half peak | p99 µs @ half peak | loss @ half peak | command |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.size} B | ${fmt(r.pps)} | ${fmt(r.loss * 100, 2)}% | ${fmt(r.cpuUs, 1)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.halfLoss * 100, 2)}% | \`${r.command}\` |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
