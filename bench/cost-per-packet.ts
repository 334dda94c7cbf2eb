/**
 * CPU per forwarded packet at fixed open-loop rates, gateway vs nginx, one worker each (pinned to
 * CPU 1; the C sender and sink on CPU 0). Shows where batching pays: at low rates a wake-up carries
 * one or two datagrams and both proxies pay per wake-up; the gateway's advantage needs load.
 *   node --import tsx bench/cost-per-packet.ts [--rates=25000,50000,100000] [--proxies=gateway,nginx] [--runs=1]
 *        [--cli=label=path/to/dist/app/cli.js,...] (gateway builds compared, interleaved: e.g. a checkout of main)
 *        [--coalesce=0,100] (a gateway row per listener receiveCoalesceMicros, interleaved)
 *        [--smooth] (single datagrams spaced evenly, as many independent clients send; without it the
 *        C sender's naps of ~70 µs send the rate in small bursts)
 * 127.0.0.1 only; every load is bounded in time and count; every process started is stopped.
 */
import { parseArgs } from 'node:util';
import { Tool, buildUdpbench, builtCli, ensureNginx, freePort, startGateway, startNginx, treeCpuSeconds, pinHarness } from './proxies.js';

const { values } = parseArgs({ options: {
  rates: { type: 'string', default: '25000,50000,100000' }, proxies: { type: 'string', default: 'gateway,nginx' },
  runs: { type: 'string', default: '1' }, cli: { type: 'string', default: '' }, coalesce: { type: 'string', default: '' },
  smooth: { type: 'boolean', default: false },
} });
const rates = values.rates.split(',').map(Number), runs = Math.max(1, Math.min(Number(values.runs), 20));
const clis = values.cli ? values.cli.split(',').map((s) => s.split('=') as [string, string]) : [];
const coalesces = values.coalesce ? values.coalesce.split(',').map(Number) : [undefined];
const proxies = values.proxies.split(',').flatMap((p) => (p !== 'gateway' ? [p]
  : (clis.length ? clis.map(([label]) => `gateway/${label}`) : ['gateway']).flatMap((g) => coalesces.map((c) => (c === undefined ? g : `${g}/rx${c}`)))));
pinHarness();
const bin = buildUdpbench();
const nginx = proxies.includes('nginx') ? ensureNginx((s) => process.stderr.write(s)) : { reason: 'not requested' };
const MEASURE_S = 4;
console.log('| run | proxy | rate/s | CPU µs per packet | share of one CPU |\n| ---: | --- | ---: | ---: | ---: |');
for (let run = 1; run <= runs; run++) for (const rate of rates) for (const proxy of proxies) {
  if (proxy === 'nginx' && nginx.reason) continue;
  const sink = new Tool(bin, ['sink', '60'], '0');
  try {
    const sinkPort = await sink.port, port = await freePort();
    const cli = clis.find(([label]) => proxy.split('/')[1] === label)?.[1] ?? builtCli();
    const rx = /\/rx(\d+)$/.exec(proxy);
    const p = proxy === 'nginx' ? await startNginx(nginx, port, sinkPort, 1, '', '1')
      : await startGateway(port, sinkPort, 1, '1', {}, { cli, ...(rx ? { listener: { receiveCoalesceMicros: Number(rx[1]) } } : {}) });
    try {
      await new Tool(bin, ['gen', String(port), '64', '3', String(rate * 3), String(rate), '16', '1', values.smooth ? '1' : '0'], '0').done; // the same load first
      const [c0, n0] = [treeCpuSeconds(p.pid), sink.count];
      await new Tool(bin, ['gen', String(port), '64', String(MEASURE_S), String(rate * MEASURE_S), String(rate), '16', '1', values.smooth ? '1' : '0'], '0').done;
      await new Promise((r) => setTimeout(r, 300));
      const [c1, n1] = [treeCpuSeconds(p.pid), sink.count];
      console.log(`| ${run} | ${proxy} | ${rate} | ${((c1 - c0) / Math.max(1, n1 - n0) * 1e6).toFixed(2)} | ${((c1 - c0) / MEASURE_S * 100).toFixed(0)}% |`);
    } finally { await p.stop(); }
  } finally { await sink.stop(); }
}
