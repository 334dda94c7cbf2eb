/**
 * Ad-hoc probe of the udp proxy's latency tail: the gateway (one worker, pinned to CPU 1) at fixed
 * open-loop rates (after 3 s of the same load, not counted), one-way latency measured at a C sink.
 * Loopback only, bounded.
 *   RATES=50000,100000 [COALESCE=0,100] node --import tsx bench/p99-probe.ts
 * COALESCE: one gateway per listener receiveCoalesceMicros, interleaved at each rate (unset: the default).
 * TRACE_GC=1: the gateway runs with --trace-gc; each line then adds its longest pauses (ms) and how
 * many took over 1 ms, over the whole run (warm-up included).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tool, buildUdpbench, freePort, startGateway } from './proxies.js';

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
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
  const lat = new Tool(bin, ['gen', String(port), '64', '3', String(rate * 3), String(rate), '16'], '0');
  await lat.done;
  await sleep(0.5);
  await p.stop();
  await sink.stop();
  const pauses = logFile ? [...readFileSync(logFile, 'utf8').matchAll(/ms: (\S+)[^,]*, ([\d.]+) \/ [\d.]+ ms/g)].map((m) => [m[1]!, Number(m[2])] as const) : [];
  const gc = logFile ? `, GC: ${pauses.length} pauses, ${pauses.filter(([, ms]) => ms > 1).length} over 1 ms, longest ${[...pauses].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, ms]) => `${k} ${ms}`).join(', ')}` : '';
  console.log(`rate ${rate}/s${rx === undefined ? '' : `, coalesce ${rx} µs`}: one-way p50 ${sink.lat.p50} µs, p99 ${sink.lat.p99} µs, max ${sink.lat.max} µs, loss ${(1 - (sink.count - before) / lat.sent).toFixed(4)}${gc}`);
}
