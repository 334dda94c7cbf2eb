/**
 * Transport micro-benchmark: a pure UDP forwarder (receive on transport A, send each batch on to a
 * sink) for dgram vs native, plus a C recvmmsg/sendmmsg forwarder as the ceiling. Load comes from
 * a batched C generator (bench/native/udpbench.c, compiled here with cc), loopback only, bounded.
 *   node --import tsx bench/transport.ts [--seconds=3] [--sizes=64,1200] [--kinds=dgram,native,c]
 *                                         [--offload=off,all] [--gso=1,16] [--runs=1]
 * --offload: the native forwarder once per UDPGW_OFFLOAD mode (addon.setOffload before it binds);
 * --gso: generator shapes, 1 = plain datagrams, N = UDP_SEGMENT runs of N (as QUIC stacks send);
 * --runs: the whole matrix again, cases interleaved, so drift on a shared machine hits all alike.
 * With taskset, the generator and sink share CPU 0 and the forwarder gets CPU 1.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Tool, buildUdpbench, hasTaskset } from './proxies.js';
import { dgramTransport } from '../net/dgram.js';
import { nativeTransport } from '../net/native.js';
import { loadNativeAddon } from '../net/native-addon.js';
import type { TransportFactory, UdpTransport } from '../gateway/extension/transport.js';

const HOST = '127.0.0.1';
const WARMUP_S = 0.7;
const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const seconds = Number(arg('seconds', '3'));
const sizes = arg('sizes', '64,1200').split(',').map(Number);
const kinds = arg('kinds', 'dgram,native,c').split(',');
const offloads = arg('offload', '').split(',').filter(Boolean);
const senders = arg('gso', '1').split(',').map(Number);
const runs = Math.max(1, Math.min(Number(arg('runs', '1')), 20));
const factories: Record<string, TransportFactory> = { dgram: dgramTransport, native: nativeTransport };

const pin = hasTaskset();

interface Forwarder { readonly port: number; forwarded(): number; batches(): number; cpuSeconds(): number; close(): Promise<void> }

/** utime + stime of a child from /proc/<pid>/stat (fields 14 and 15, clock ticks of 1/100 s). */
function childCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { return Number.NaN; }
}

async function nodeForwarder(factory: TransportFactory, sinkPort: number): Promise<Forwarder> {
  let forwarded = 0, batches = 0;
  const onBatch = (batch: { data: Buffer }[]) => {
    forwarded += batch.length;
    batches++;
    t.sendDatagrams(batch.map((d) => ({ data: d.data, address: HOST, port: sinkPort })));
  };
  const t: UdpTransport = await factory.bind({ host: HOST, port: 0, maxDatagramBytes: 2048, receiveBufferBytes: 4 << 20, sendBufferBytes: 4 << 20 }, onBatch, () => {});
  const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  return { port: t.local.port, forwarded: () => forwarded, batches: () => batches, cpuSeconds, close: () => t.close() };
}

async function cForwarder(bin: string, sinkPort: number): Promise<Forwarder> {
  const tool = new Tool(bin, ['fwd', String(sinkPort), String(seconds + WARMUP_S + 1)], '1');
  return { port: await tool.port, forwarded: () => tool.count, batches: () => Number.NaN, cpuSeconds: () => childCpuSeconds(tool.pid), close: () => tool.done };
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

interface Result { fwd: number; perCpu: number; sink: number; offered: number; batch: number }

async function measure(bin: string, kind: string, size: number, offload: string, gso: number): Promise<Result> {
  const sink = new Tool(bin, ['sink', String(seconds + WARMUP_S + 1.5)], '0');
  const sinkPort = await sink.port;
  if (offload) loadNativeAddon().addon?.setOffload?.(offload);
  const fwd = kind === 'c' ? await cForwarder(bin, sinkPort) : await nodeForwarder(factories[kind]!, sinkPort);
  const gen = new Tool(bin, ['gen', String(fwd.port), String(size), String(seconds + WARMUP_S), '100000000', '0', '1', String(gso)], '0');
  await sleep(WARMUP_S);
  const [f0, s0, c0, b0] = [fwd.forwarded(), sink.count, fwd.cpuSeconds(), fwd.batches()];
  await sleep(seconds);
  const [f1, s1, c1, b1] = [fwd.forwarded(), sink.count, fwd.cpuSeconds(), fwd.batches()];
  await gen.done;
  await fwd.close();
  await sink.done;
  return { fwd: (f1 - f0) / seconds, perCpu: (f1 - f0) / (c1 - c0), sink: (s1 - s0) / seconds, offered: gen.sent / (seconds + WARMUP_S), batch: (f1 - f0) / (b1 - b0) };
}

async function main(): Promise<void> {
  if (pin) execFileSync('taskset', ['-a', '-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const bin = buildUdpbench();
  const k = (n: number) => `${Math.round(n / 1000)}k`;
  console.log(`forwarder pps over ${seconds}s after ${WARMUP_S}s warm-up; cpu pinning: ${pin ? 'gen+sink cpu0, forwarder cpu1' : 'none'}`);
  console.log('run  sender  kind         size  forwarded/s  per cpu-s  sink/s  offered/s  avg batch');
  for (let run = 1; run <= runs; run++) {
    for (const size of sizes) for (const gso of senders) for (const kind of kinds) {
      for (const offload of kind === 'native' && offloads.length ? offloads : ['']) {
        const r = await measure(bin, kind, size, offload, gso);
        const name = offload ? `${kind}/${offload}` : kind;
        const sender = gso > 1 ? `gso${gso}` : 'plain';
        console.log(`${String(run).padStart(3)}  ${sender.padEnd(6)}  ${name.padEnd(11)} ${String(size).padStart(4)}  ${k(r.fwd).padStart(11)}  ${k(r.perCpu).padStart(9)}  ${k(r.sink).padStart(6)}  ${k(r.offered).padStart(9)}  ${Number.isNaN(r.batch) ? '-' : r.batch.toFixed(1)}`.trimEnd());
      }
    }
  }
}

await main();
