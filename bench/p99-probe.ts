/**
 * Ad-hoc probe of the udp proxy's latency tail: the gateway (one worker, pinned to CPU 1) at fixed
 * open-loop rates (after 3 s of the same load, not counted), one-way latency measured at a C sink.
 * Loopback only, bounded.
 *   RATES=50000,100000 [COALESCE=0,100] node --import tsx bench/p99-probe.ts
 * COALESCE: one gateway per listener receiveCoalesceMicros, interleaved at each rate (unset: the default).
 */
import { Tool, buildUdpbench, freePort, startGateway } from './proxies.js';

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const bin = buildUdpbench();
const rates = (process.env.RATES ?? '50000,100000,160000').split(',').map(Number);
const coalesces = process.env.COALESCE ? process.env.COALESCE.split(',').map(Number) : [undefined];
for (const rate of rates) for (const rx of coalesces) {
  const sink = new Tool(bin, ['sink', '30'], '0');
  const sinkPort = await sink.port, port = await freePort();
  const p = await startGateway(port, sinkPort, 1, '1', {}, rx === undefined ? {} : { listener: { receiveCoalesceMicros: rx } });
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
  console.log(`rate ${rate}/s${rx === undefined ? '' : `, coalesce ${rx} µs`}: one-way p50 ${sink.lat.p50} µs, p99 ${sink.lat.p99} µs, max ${sink.lat.max} µs, loss ${(1 - (sink.count - before) / lat.sent).toFixed(4)}`);
}
