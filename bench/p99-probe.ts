/**
 * Ad-hoc probe of the udp proxy's latency tail: the gateway (one worker, pinned to CPU 1) at fixed
 * open-loop rates (after 3 s of the same load, not counted), one-way latency measured at a C sink.
 * Loopback only, bounded.
 *   RATES=50000,100000 [COALESCE=0,100] node --import tsx bench/p99-probe.ts
 * COALESCE: one gateway per listener receiveCoalesceMicros, interleaved at each rate (unset: the default).
 * TRACE_GC=1: the gateway runs with --trace-gc; each line then adds its longest pauses (ms) and how
 * many took over 1 ms, over the whole run (warm-up included).
 * Every line also tells, for the latency window, how long the gateway's main thread waited for a CPU
 * (run_delay in /proc/<pid>/schedstat: in total, and the most within one 5 ms sample) and the steal
 * time of CPU 1 (/proc/stat): whether a stall was the scheduler's or the hypervisor's; the gateway's
 * other threads' CPU time, and which other threads of the machine ran on CPU 1 meanwhile.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tool, buildUdpbench, freePort, startGateway, pinHarness, taskStats, type TaskStat } from './proxies.js';

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
/** The main thread's run_delay (ns) and CPU 1's steal (ms), read from /proc. */
function schedSample(pid: number): { runDelay: number; steal: number } {
  const runDelay = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
  const cpu1 = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu1 '))?.split(/\s+/) ?? [];
  return { runDelay, steal: Number(cpu1[8] ?? 0) * 10 };
}
pinHarness();
const bin = buildUdpbench();
const rates = (process.env.RATES ?? '50000,100000,160000').split(',').map(Number);
const coalesces = process.env.COALESCE ? process.env.COALESCE.split(',').map(Number) : [undefined];
for (const rate of rates) for (const rx of coalesces) {
  const sink = new Tool(bin, ['sink', '30'], '0');
  const sinkPort = await sink.port, port = await freePort();
  const logFile = process.env.TRACE_GC ? join(mkdtempSync(join(tmpdir(), 'udpgw-gc-')), 'gateway.log') : undefined;
  const p = await startGateway(port, sinkPort, 1, '1', {},
    { ...(rx === undefined ? {} : { listener: { receiveCoalesceMicros: rx } }), ...(logFile ? { logFile, nodeArgs: ['--trace-gc'] } : {}) });
  const warm = new Tool(bin, ['gen', String(port), '64', '2', String(rate * 2), '0', '16'], '0', true); // no timestamps
  await warm.done;
  await new Tool(bin, ['gen', String(port), '64', '3', String(rate * 3), String(rate), '16'], '0').done; // same load, not counted
  await sleep(0.2);
  await sink.resetLatency();
  const before = sink.count;
  const first = schedSample(p.pid), tasks0 = taskStats();
  let last = first, longestWait = 0;
  const sampler = setInterval(() => {
    const now = schedSample(p.pid);
    longestWait = Math.max(longestWait, now.runDelay - last.runDelay);
    last = now;
  }, 5);
  const lat = new Tool(bin, ['gen', String(port), '64', '3', String(rate * 3), String(rate), '16'], '0');
  await lat.done;
  clearInterval(sampler);
  const end = schedSample(p.pid), tasks1 = taskStats();
  /** The threads that used CPU in the window and pass `keep`: the top ones, "name N ms". */
  const busiest = (keep: (key: string, t: TaskStat) => boolean, n: number) => [...tasks1]
    .filter(([key, t]) => tasks0.has(key) && keep(key, t)).map(([key, t]) => ({ name: t.name, ms: t.cpuMs - tasks0.get(key)!.cpuMs }))
    .filter((t) => t.ms > 0).sort((a, b) => b.ms - a.ms).slice(0, n).map((t) => `${t.name} ${t.ms} ms`).join(', ');
  const others = busiest((key) => key.startsWith(`${p.pid}/`) && key !== `${p.pid}/${p.pid}`, 3);
  const onCpu1 = busiest((key, t) => t.lastCpu === '1' && !key.startsWith(`${p.pid}/`), 4);
  const sched = `, sched: waited ${((end.runDelay - first.runDelay) / 1e6).toFixed(1)} ms for a CPU (most in 5 ms: ${(longestWait / 1e6).toFixed(1)}), CPU 1 steal ${end.steal - first.steal} ms; other threads: ${others || 'none'}; also on CPU 1: ${onCpu1 || 'none'}`;
  await sleep(0.5);
  await p.stop();
  await sink.stop();
  const pauses = logFile ? [...readFileSync(logFile, 'utf8').matchAll(/ms: (\S+)[^,]*, ([\d.]+) \/ [\d.]+ ms/g)].map((m) => [m[1]!, Number(m[2])] as const) : [];
  const gc = logFile ? `, GC: ${pauses.length} pauses, ${pauses.filter(([, ms]) => ms > 1).length} over 1 ms, longest ${[...pauses].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, ms]) => `${k} ${ms}`).join(', ')}` : '';
  console.log(`rate ${rate}/s${rx === undefined ? '' : `, coalesce ${rx} µs`}: one-way p50 ${sink.lat.p50} µs, p99 ${sink.lat.p99} µs, max ${sink.lat.max} µs, loss ${(1 - (sink.count - before) / lat.sent).toFixed(4)}${sched}${gc}`);
}
