/**
 * The gateway's fixed cost per wake-up, measured in a way that does not depend on the machine's
 * load: a closed loop sends a burst of `k` datagrams (one sendmmsg, so one wake-up of the gateway
 * for k = 1, and few for small k), waits until the sink has them all, then sends the next burst.
 * The gateway's udp proxy path (its CLI, one worker) forwards them. What is measured is the
 * gateway's CPU time (all its threads, from /proc/<pid>/task/<tid>/schedstat, in ns) per packet
 * and per burst, not wall time; with --callgrind, the instructions it executes in user space
 * (valgrind's callgrind, counters zeroed before and dumped after the measured rounds).
 *
 *   node --import tsx bench/wakeup-cost.ts [--bursts=1,4,64] [--rounds=20000] [--runs=3] [--flows=1]
 *        [--cli=label=path/to/dist/app/cli.js,...] [--gso=1] [--callgrind] [--env=K=V,...]
 *        [--wrap='strace -f -c -o /tmp/sys.txt'] (the gateway under another tool)
 *        [--dest=udp|udp-echo|handler|handler-in-process] [--workers=2]
 * --dest: what the gateway does with the bursts. udp (default): the udp proxy path one way, counted
 * at the sink. The others are request/response, counted as replies back at the client: udp-echo,
 * the udp proxy to a backend that echoes (two wake-ups of the gateway per burst, request and reply);
 * handler, examples/echo-handler.mjs in worker threads (`workers` of them); handler-in-process, the
 * same handler with `isolation: in-process`. A burst of k becomes one handler event of k messages.
 *
 * cost(k) per burst ≈ F + k·v: F is the fixed cost per wake-up (event loop, recvmmsg, the call into
 * JS, the listener's and the runner's work per batch, sendmmsg), v the cost per datagram.
 * --cli compares builds (e.g. a checkout of main) interleaved, run by run. The driver (this
 * process) runs on CPU 0, the gateway on CPU 1 (taskset). 127.0.0.1 only; every loop is bounded in
 * count and time; every process started is stopped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtCli, freePort, pinHarness, startGateway, type Proxy } from './proxies.js';
import { nativeTransport } from '../net/native.js';
import { loadNativeAddon } from '../net/native-addon.js';
import type { Datagram } from '../gateway/packet.js';
import type { UdpTransport } from '../gateway/extension/transport.js';

const HOST = '127.0.0.1';
const { values } = parseArgs({ options: {
  bursts: { type: 'string', default: '1,4,64' }, rounds: { type: 'string', default: '20000' },
  runs: { type: 'string', default: '3' }, flows: { type: 'string', default: '1' }, cli: { type: 'string', default: '' },
  gso: { type: 'string', default: '1' }, callgrind: { type: 'boolean', default: false }, env: { type: 'string', default: '' },
  size: { type: 'string', default: '64' }, dest: { type: 'string', default: 'udp' }, workers: { type: 'string', default: '2' }, wrap: { type: 'string', default: '' }, warmup: { type: 'string', default: '' },
} });
const bursts = values.bursts.split(',').map(Number).filter((k) => k >= 1 && k <= 1024);
const rounds = Math.max(100, Math.min(Number(values.rounds), 1_000_000));
const runs = Math.max(1, Math.min(Number(values.runs), 20));
const flows = Math.max(1, Math.min(Number(values.flows), 64));
const size = Math.max(1, Math.min(Number(values.size), 1400));
const gsoSender = Number(values.gso) > 1;
const env = Object.fromEntries(values.env.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const dest = values.dest;
if (!['udp', 'udp-echo', 'handler', 'handler-in-process'].includes(dest)) throw new Error(`--dest=${dest}: udp, udp-echo, handler or handler-in-process`);
const ROOT_DIR = join(import.meta.dirname, '..');
const clis = values.cli ? values.cli.split(',').map((s) => s.split('=') as [string, string]) : [['this', builtCli()] as [string, string]];
/** Rounds before measuring: the JIT must have finished with the path (under valgrind it takes longer). */
const WARMUP_ROUNDS = Math.min(Number(values.warmup || (values.callgrind ? 20_000 : 5_000)), 200_000);
const ROUND_TIMEOUT_MS = values.callgrind ? 2000 : 200;

/** ns on CPU of every thread of `pid` (schedstat's first field). */
function threadNs(pid: number): number {
  let sum = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try { sum += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch { /* gone */ }
  }
  return sum;
}

/** user and system clock ticks (1/100 s) of `pid`. */
function ticks(pid: number): [number, number] {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(f[11]), Number(f[12])];
}

class Sink {
  count = 0;
  private want = Infinity;
  private wake: (() => void) | undefined;
  transport!: UdpTransport;
  readonly onBatch = (b: Datagram[]): void => {
    this.count += b.length;
    if (this.count >= this.want && this.wake) { const w = this.wake; this.wake = undefined; w(); }
  };
  /** Resolves true when `n` datagrams have arrived in all, false after `ms`. */
  until(n: number, ms: number): Promise<boolean> {
    if (this.count >= n) return Promise.resolve(true);
    this.want = n;
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(false); }, ms);
      this.wake = () => { clearTimeout(t); resolve(true); };
    });
  }
}

interface Result { label: string; k: number; packets: number; lost: number; nsPerPacket: number; nsPerBurst: number; userShare: number; irPerBurst?: [number, number]; wallUs: number }

function callgrind(pid: number, what: '-z' | '-d'): void {
  spawnSync('callgrind_control', [what, String(pid)], { stdio: 'ignore', timeout: 60_000 });
}

/** Ir of the dump (callgrind_control -d: part 1) under `dir`: [main thread, all threads]. */
function callgrindIr(dir: string): [number, number] {
  let main = Number.NaN, all = 0;
  for (const f of readdirSync(dir).filter((n) => /\.1-\d+$/.test(n))) {
    const m = /^summary: (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    if (!m) continue;
    all += Number(m[1]);
    if (f.endsWith('.1-01')) main = Number(m[1]);
  }
  return [main, all];
}

async function measure(label: string, cli: string, k: number): Promise<Result> {
  const sink = new Sink();
  // One way, the sink counts; request/response, the client counts the replies and the backend echoes.
  const oneWay = dest === 'udp';
  const echo: { t?: UdpTransport } = {};
  const onBackend = (b: Datagram[]): void => { if (oneWay) sink.onBatch(b); else echo.t!.sendDatagrams(b); };
  sink.transport = echo.t = await nativeTransport.bind({ host: HOST, port: 0, maxDatagramBytes: 2048 }, onBackend, () => {});
  const handler = dest.startsWith('handler')
    ? [{ name: 'echo', type: 'handler', module: join(ROOT_DIR, 'examples/echo-handler.mjs'), workers: Number(values.workers), isolation: dest === 'handler' ? 'worker' : 'in-process' }]
    : undefined;
  const port = await freePort();
  const cgDir = values.callgrind ? mkdtempSync(join(tmpdir(), 'wakeup-cg-')) : '';
  const wrap = values.wrap ? values.wrap.split(' ') : values.callgrind ? ['valgrind', '--tool=callgrind', `--callgrind-out-file=${cgDir}/callgrind.out.%p`, '--dump-instr=no', '--separate-threads=yes'] : [];
  let gw: Proxy | undefined;
  const clients: UdpTransport[] = [];
  try {
    gw = await startGateway(port, sink.transport.local.port, 1, '1', env, { cli, wrap, readyTimeoutMs: values.callgrind ? 300_000 : 30_000, ...(handler ? { destinations: handler } : {}) });
    const onReply = oneWay ? () => {} : sink.onBatch;
    for (let f = 0; f < flows; f++) clients.push(await nativeTransport.bind({ host: HOST, port: 0, maxDatagramBytes: 2048 }, onReply, () => {}));
    const burst: Datagram[] = Array.from({ length: k }, (_, i) => ({ data: Buffer.alloc(size, i), address: HOST, port }));
    let sent = 0, lost = 0;
    const round = async (r: number) => {
      clients[r % flows]!.sendDatagrams(burst);
      sent += k;
      if (!(await sink.until(sent, ROUND_TIMEOUT_MS))) { lost += sent - sink.count; sent = sink.count; }
    };
    for (let r = 0; r < WARMUP_ROUNDS && lost < k * 50; r++) await round(r);
    if (sink.count === 0) throw new Error('the gateway forwards nothing');
    const pid = gw.pid;
    if (values.callgrind) callgrind(pid, '-z');
    const [n0, c0, t0, w0] = [sink.count, threadNs(pid), ticks(pid), process.hrtime.bigint()];
    lost = 0;
    for (let r = 0; r < rounds; r++) await round(r);
    const [n1, c1, t1, w1] = [sink.count, threadNs(pid), ticks(pid), process.hrtime.bigint()];
    if (values.callgrind) callgrind(pid, '-d');
    const packets = n1 - n0, ns = c1 - c0;
    const user = t1[0] - t0[0], system = t1[1] - t0[1];
    const irPerBurst = values.callgrind ? callgrindIr(cgDir).map((n) => n / rounds) as [number, number] : undefined;
    return { label, k, packets, lost, nsPerPacket: ns / packets, nsPerBurst: ns / rounds, userShare: user / Math.max(1, user + system), irPerBurst, wallUs: Number(w1 - w0) / 1000 / rounds };
  } finally {
    await gw?.stop();
    for (const c of clients) await c.close();
    await sink.transport.close();
  }
}

async function main(): Promise<void> {
  pinHarness();
  const addon = loadNativeAddon().addon;
  if (!addon) throw new Error('the native addon is needed (npm run install)');
  addon.setOffload?.(gsoSender ? 'all' : 'off'); // this process's sockets: plain datagrams unless --gso
  if (values.callgrind && !existsSync('/usr/bin/valgrind')) throw new Error('valgrind is not installed');
  console.log(`wake-up cost, ${dest}${dest.startsWith('handler') ? ` (${values.workers} workers)` : ''}: ${rounds} bursts per case after ${WARMUP_ROUNDS}, ${size} B, ${flows} flow(s), ${gsoSender ? 'GSO' : 'plain'} sender; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`| run | build | burst k | packets | lost | gateway CPU ns/packet | ns/burst | user share |${values.callgrind ? ' instructions/burst, main thread (callgrind) | all threads |' : ''} round trip µs |`);
  console.log(`| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |${values.callgrind ? ' ---: | ---: |' : ''} ---: |`);
  for (let run = 1; run <= runs; run++) for (const k of bursts) for (const [label, cli] of clis) {
    const r = await measure(label, cli, k);
    console.log(`| ${run} | ${label} | ${k} | ${r.packets} | ${r.lost} | ${r.nsPerPacket.toFixed(0)} | ${r.nsPerBurst.toFixed(0)} | ${(r.userShare * 100).toFixed(0)}% |${r.irPerBurst ? ` ${Math.round(r.irPerBurst[0])} | ${Math.round(r.irPerBurst[1])} |` : ''} ${r.wallUs.toFixed(1)} |`);
  }
}

await main();
process.exit(0);
