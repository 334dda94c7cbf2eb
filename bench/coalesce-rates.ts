/**
 * Receive coalescing at the transport: a forwarder process (the native listener transport, each
 * batch sent on to a sink, pinned to CPU 1) under open-loop rates and at saturation, once per
 * `receiveCoalesceMicros`, cases interleaved. Reports the forwarder's CPU per packet and what its
 * socket did: readable wake-ups and timer ticks per second, times coalescing began, datagrams per
 * wake-up. It shows where coalescing pays (dense wake-ups) and that below that density it stays off.
 *   node --import tsx bench/coalesce-rates.ts [--rates=0,25000,100000] [--coalesce=0,100] [--runs=1] [--seconds=3] [--gso=1] [--smooth]
 * --smooth: open-loop rates as single datagrams spaced evenly (udpbench's `smooth`), not small bursts.
 * Rate 0 = as fast as the C sender goes (saturation). 127.0.0.1 only; every load is bounded in time
 * and count; every process started is stopped.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, Tool, buildUdpbench, hasTaskset, pinHarness } from './proxies.js';

const { values } = parseArgs({ options: {
  rates: { type: 'string', default: '0,25000,100000' }, coalesce: { type: 'string', default: '0,100' },
  runs: { type: 'string', default: '1' }, seconds: { type: 'string', default: '3' }, gso: { type: 'string', default: '1' },
  smooth: { type: 'boolean', default: false },
} });
const rates = values.rates.split(',').map(Number);
const coalesces = values.coalesce.split(',').map(Number);
const runs = Math.max(1, Math.min(Number(values.runs), 20));
const seconds = Math.max(1, Math.min(Number(values.seconds), 30));
const gso = Math.max(1, Math.min(Number(values.gso), 64));

/** The forwarder, as plain JS on the built net layer (npm run build), answering "stats" on stdin. */
const FORWARDER = `
import { nativeTransport } from ${JSON.stringify(join(ROOT, 'dist/net/native.js'))};
const [sinkPort, micros] = process.argv.slice(-2).map(Number);
let forwarded = 0;
const t = await nativeTransport.bind({ host: '127.0.0.1', port: 0, maxDatagramBytes: 2048, receiveCoalesceMicros: micros },
  (batch) => { forwarded += batch.length; t.sendDatagrams(batch.map((d) => ({ data: d.data, address: '127.0.0.1', port: sinkPort }))); }, () => {});
console.log('port ' + t.local.port);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (l) => {
  if (l.startsWith('quit')) { t.close(); process.exit(0); }
  const u = process.cpuUsage();
  console.log(JSON.stringify({ forwarded, cpu: (u.user + u.system) / 1e6, ...t.coalescing() }));
});
`;

interface Stats { forwarded: number; cpu: number; starts: number; ticks: number; wakeups: number }

async function forwarder(sinkPort: number, micros: number) {
  const argv = [process.execPath, '--input-type=module', '-e', FORWARDER, String(sinkPort), String(micros)];
  const child = hasTaskset() ? spawn('taskset', ['-c', '1', ...argv], { stdio: ['pipe', 'pipe', 'inherit'] }) : spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value ?? '');
  const port = Number((await next()).split(' ')[1]);
  return {
    port,
    stats: async (): Promise<Stats> => { child.stdin!.write('stats\n'); return JSON.parse(await next()) as Stats; },
    stop: () => new Promise<void>((r) => { child.once('exit', () => r()); child.stdin!.write('quit\n'); setTimeout(() => child.kill('SIGKILL'), 2000).unref(); }),
  };
}

pinHarness();
const bin = buildUdpbench();
console.log(`gso ${gso}${values.smooth ? ', smooth' : ''} | ${new Date().toISOString()}\n`);
console.log('| run | rate/s | coalesce µs | forwarded/s | CPU µs per packet | readable wake-ups/s | ticks/s | starts | datagrams per wake-up |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (let run = 1; run <= runs; run++) for (const rate of rates) for (const micros of coalesces) {
  const sink = new Tool(bin, ['sink', String(seconds * 3 + 10)], '0');
  const fwd = await forwarder(await sink.port, micros);
  try {
    const max = rate > 0 ? rate * (seconds + 1) : 50_000_000;
    const gen = new Tool(bin, ['gen', String(fwd.port), '64', String(seconds + 1), String(max), String(rate), '16', String(gso), values.smooth ? '1' : '0'], '0', rate === 0);
    await new Promise((r) => setTimeout(r, 700)); // warm-up under the same load
    const a = await fwd.stats();
    await new Promise((r) => setTimeout(r, (seconds - 0.4) * 1000));
    const b = await fwd.stats();
    await gen.done;
    const n = b.forwarded - a.forwarded, dt = seconds - 0.4;
    const wakes = b.wakeups - a.wakeups, ticks = b.ticks - a.ticks;
    console.log(`| ${run} | ${rate || 'max'} | ${micros} | ${(n / dt / 1000).toFixed(0)}k | ${((b.cpu - a.cpu) / Math.max(1, n) * 1e6).toFixed(2)} | ${(wakes / dt / 1000).toFixed(1)}k | ${(ticks / dt / 1000).toFixed(1)}k | ${b.starts} | ${(n / Math.max(1, wakes + ticks)).toFixed(1)} |`);
  } finally {
    await fwd.stop();
    await sink.stop();
  }
}
