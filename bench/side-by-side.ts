/**
 * Side by side: the same load against the gateway's udp proxy path (listener → `udp` destination →
 * sink) and nginx's stream UDP proxy (listen udp reuseport → proxy_pass sink), in one run.
 *
 *   npm run bench:side-by-side [-- --sizes=64,1200 --workers=1,2 --proxies=gateway,nginx --seconds=4 --lat-seconds=3 --lat-warmup=3 --runs=1]
 *                              [--offload=off,all] [--gso=1,16]
 * --offload: a gateway row per UDPGW_OFFLOAD mode (the addon's UDP GSO/GRO); unset: the default.
 * --lat-rate=N: the latency run at N datagrams/s for every proxy, instead of half of each one's own
 *   peak (so proxies with very different peaks are compared at one rate, with the sender and sink
 *   equally loaded).
 * --coalesce: a gateway row per listener receiveCoalesceMicros value (0 = off); unset: the default.
 * --flow=on,off: a gateway row per flow offload setting (off: UDPGW_FLOW_OFFLOAD=off, every
 *   datagram through JS; on: the default).
 * --cli=label=path/to/dist/app/cli.js,...: gateway rows of other builds (e.g. a checkout of main
 *   before a change), interleaved with this one's, named gateway@<label> (with their own defaults:
 *   --coalesce applies to this build's rows only).
 *   Rows are named gateway[@<build>][/<offload>][/rx<µs>].
 * --proxies=...,c adds the plain C recvmmsg/sendmmsg forwarder (udpbench fwd, one process; no offload)
 * in the same harness: the reference for batched system calls alone (its `workers` is always 1).
 * --gso: sender shapes, 1 = plain datagrams (real clients), N = UDP_SEGMENT runs of N (QUIC stacks).
 * --runs=N repeats the whole matrix and ends with the range of each ratio and p99 over the runs
 * (figures on a shared VM vary by 10–30% between runs).
 *   npm run bench -- --side-by-side [same options]
 *
 * Load: the batched C sender (bench/native/udpbench.c, sendmmsg 64 at a time) from 16 source ports
 * (so SO_REUSEPORT spreads flows over workers), as fast as it can for the peak; then open loop at
 * half of that proxy's own peak with a CLOCK_MONOTONIC timestamp in every datagram, for the
 * latency (measured after --lat-warmup seconds of that same load, which are not counted). Forwarded packets are counted at the C sink (recvmmsg), never from the sender's count;
 * latency is one-way, sender → proxy → sink, measured by the sink. 127.0.0.1 only; every loop is
 * bounded in time and count; every process started here is stopped. nginx is installed from the
 * distribution's packages when missing (root with network), else its rows are skipped.
 * With one worker, the proxy is pinned to CPU 1 and sender + sink to CPU 0 (taskset). The peak
 * sender runs at nice 19 so that it takes only CPU left over by the sink and the proxy (on a small
 * machine a sender at full speed would otherwise starve the sink and understate the proxy).
 */
import { createSocket } from 'node:dgram';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Tool, buildUdpbench, builtCli, ensureNginx, freePort, startCForwarder, startGateway, startNginx, treeCpuSeconds, treeRunDelayMs, type NginxInstall, type Proxy, pinHarness } from './proxies.js';

const WARMUP_S = 1;
const MAX_PACKETS = 50_000_000;
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const log = (s: string) => process.stderr.write(s);

interface Options {
  sizes: number[]; workers: number[]; proxies: string[]; seconds: number; latSeconds: number; latWarmup: number; flows: number;
  responses: string; runs: number; offload: string[]; gso: number[]; coalesce: number[]; flow: string[]; latRate: number; clis: [string, string][];
}

interface Row {
  proxy: string; sender: string; workers: number; size: number; forwarded: number; perCpu: number; offered: number;
  p50: number; p99: number; halfRate: number; halfLoss: number; command: string;
  /** p50/p99 to the kernel's receive timestamp at the sink (when the proxy's send reached loopback):
   *  without the sink's own wake-up and scheduling, which on two cores share CPU 0 with the sender. */
  kp50: number; kp99: number;
  /** ms the proxy's threads waited for a CPU during the latency window (a stall's suspect). */
  latWaitMs: number;
}

function options(args: string[]): Options {
  const { values } = parseArgs({ args, options: {
    sizes: { type: 'string', default: '64,1200' }, workers: { type: 'string', default: '1,2' },
    proxies: { type: 'string', default: 'gateway,nginx' }, seconds: { type: 'string', default: '4' },
    'lat-seconds': { type: 'string', default: '3' }, 'lat-warmup': { type: 'string', default: '3' }, flows: { type: 'string', default: '16' },
    'nginx-responses': { type: 'string', default: '' }, runs: { type: 'string', default: '1' },
    offload: { type: 'string', default: '' }, gso: { type: 'string', default: '1' }, coalesce: { type: 'string', default: '' },
    'lat-rate': { type: 'string', default: '0' }, cli: { type: 'string', default: '' }, flow: { type: 'string', default: '' },
  } });
  const list = (s: string) => s.split(',').filter(Boolean);
  return {
    sizes: list(values.sizes).map(Number), workers: list(values.workers).map(Number), proxies: list(values.proxies),
    seconds: Math.min(Number(values.seconds), 60), latSeconds: Math.min(Number(values['lat-seconds']), 60),
    latWarmup: Math.min(Number(values['lat-warmup']), 60),
    flows: Number(values.flows), responses: values['nginx-responses'], runs: Math.max(1, Math.min(Number(values.runs), 20)),
    offload: list(values.offload), gso: list(values.gso).map(Number), coalesce: list(values.coalesce).map(Number),
    flow: list(values.flow).map((f) => { if (f !== 'on' && f !== 'off') throw new Error(`--flow: on or off, not ${f}`); return f; }),
    latRate: Math.max(0, Math.min(Number(values['lat-rate']) || 0, 5_000_000)),
    clis: list(values.cli).map((s) => s.split('=') as [string, string]),
  };
}

/** Sends a small datagram every 50 ms until the sink counts one (the proxy forwards), at most 10 s. */
async function waitForwarding(port: number, sink: Tool): Promise<void> {
  const s = createSocket('udp4');
  const before = sink.count;
  try {
    for (let i = 0; i < 200 && sink.count === before; i++) {
      s.send(Buffer.alloc(32), port, '127.0.0.1');
      await sleep(0.05);
    }
  } finally { s.close(); }
  if (sink.count === before) throw new Error('the proxy forwards nothing to the sink');
}

/** A gateway row's variant from its name, gateway[@<build>][/<offload>][/rx<µs>][/flow-off]. */
function variant(proxy: string): { offload?: string; coalesce?: number; build?: string; flowOff?: boolean } {
  const parts = proxy.split('/');
  const build = /@(.+)$/.exec(parts[0]!)?.[1];
  const rx = parts.slice(1).find((p) => /^rx\d+$/.test(p));
  const flowOff = parts.includes('flow-off');
  const offload = parts.slice(1).find((p) => !/^rx\d+$/.test(p) && p !== 'flow-off');
  return { ...(offload ? { offload } : {}), ...(rx ? { coalesce: Number(rx.slice(2)) } : {}), ...(build ? { build } : {}), ...(flowOff ? { flowOff } : {}) };
}

function command(o: Options, proxy: string, size: number, workers: number, gso: number): string {
  const kind = proxy.split('/')[0]!.replace(/@.*$/, '');
  const { offload, coalesce, flowOff } = variant(proxy);
  return `npm run bench:side-by-side -- --proxies=${kind} --sizes=${size} --workers=${workers} --seconds=${o.seconds}${offload ? ` --offload=${offload}` : ''}${coalesce !== undefined ? ` --coalesce=${coalesce}` : ''}${flowOff ? ' --flow=off' : ''}${gso > 1 ? ` --gso=${gso}` : ''}`;
}

/** proxy: "nginx", "gateway", or "gateway/<UDPGW_OFFLOAD mode>". gso: the sender's segments per send. */
async function measure(o: Options, bin: string, nginx: NginxInstall, proxy: string, size: number, workers: number, gso: number): Promise<Row> {
  const pin = workers === 1 && cpus().length >= 2;
  const [toolCpu, proxyCpu] = pin ? ['0', '1'] : [undefined, undefined];
  const sink = new Tool(bin, ['sink', String(WARMUP_S + o.seconds + o.latWarmup + o.latSeconds + 40)], toolCpu);
  let p: Proxy | undefined;
  try {
    const sinkPort = await sink.port;
    let port = await freePort();
    const { offload, coalesce, build, flowOff } = variant(proxy);
    const cli = build ? o.clis.find(([label]) => label === build)?.[1] : undefined;
    if (proxy === 'c') {
      const c = await startCForwarder(bin, sinkPort, WARMUP_S + o.seconds + o.latWarmup + o.latSeconds + 30, proxyCpu);
      p = c; port = c.port;
    } else {
      p = proxy === 'nginx' ? await startNginx(nginx, port, sinkPort, workers, o.responses, proxyCpu)
        : await startGateway(port, sinkPort, workers, proxyCpu, { ...(offload ? { UDPGW_OFFLOAD: offload } : {}), ...(flowOff ? { UDPGW_FLOW_OFFLOAD: 'off' } : {}) },
          { ...(coalesce !== undefined ? { listener: { receiveCoalesceMicros: coalesce } } : {}), ...(cli ? { cli } : {}) });
    }
    await waitForwarding(port, sink);
    const gen = new Tool(bin, ['gen', String(port), String(size), String(WARMUP_S + o.seconds), String(MAX_PACKETS), '0', String(o.flows), String(gso)], toolCpu, true);
    await sleep(WARMUP_S);
    const [n0, c0] = [sink.count, treeCpuSeconds(p.pid)];
    await sleep(o.seconds);
    const [n1, c1] = [sink.count, treeCpuSeconds(p.pid)];
    await gen.done;
    const forwarded = (n1 - n0) / o.seconds;
    await sleep(1); // let queues drain before the latency run
    const halfRate = o.latRate || Math.max(1, Math.floor(forwarded / 2));
    // The same open-loop load first, not measured: the latency is that of the steady state. (A
    // JIT still optimizing the path just changed from bursts to a steady rate adds ms-long tails
    // for its first seconds; docs/performance.md.)
    if (o.latWarmup > 0) {
      await new Tool(bin, ['gen', String(port), String(size), String(o.latWarmup), String(Math.ceil(halfRate * o.latWarmup)), String(halfRate), String(o.flows), String(gso)], toolCpu).done;
      await sleep(0.2);
    }
    await sink.resetLatency();
    const before = sink.count, wait0 = treeRunDelayMs(p.pid);
    const lat = new Tool(bin, ['gen', String(port), String(size), String(o.latSeconds), String(Math.ceil(halfRate * o.latSeconds)), String(halfRate), String(o.flows), String(gso)], toolCpu);
    await lat.done;
    const latWaitMs = treeRunDelayMs(p.pid) - wait0;
    await sleep(0.5);
    const halfLoss = 1 - (sink.count - before) / Math.max(1, lat.sent);
    await p.stop();
    p = undefined;
    await sink.stop();
    return {
      proxy, sender: gso > 1 ? `gso${gso}` : 'plain', workers, size, forwarded, perCpu: (n1 - n0) / (c1 - c0), offered: gen.sent / (WARMUP_S + o.seconds),
      p50: sink.lat.p50, p99: sink.lat.p99, kp50: sink.klat.p50, kp99: sink.klat.p99, halfRate, halfLoss, command: command(o, proxy, size, workers, gso), latWaitMs,
    };
  } finally {
    await p?.stop();
    await sink.stop();
  }
}

const k = (n: number) => (Number.isFinite(n) ? `${Math.round(n / 1000).toLocaleString('en-US')}k` : 'n/a');
const int = (n: number) => (Number.isFinite(n) && n >= 0 ? String(Math.round(n)) : 'n/a');

function table(rows: Row[], skipped: string | undefined): string {
  const out = [
    '| proxy | sender | workers | payload | forwarded/s (at sink) | per proxy CPU-second | offered/s | one-way p50 µs @ half | p99 µs @ half | p50 / p99 µs @ half, to the sink\'s kernel | loss @ half | command |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.proxy} | ${r.sender} | ${r.workers} | ${r.size} B | ${k(r.forwarded)} | ${k(r.perCpu)} | ${k(r.offered)} | ${int(r.p50)} | ${int(r.p99)} | ${int(r.kp50)} / ${int(r.kp99)} | ${(r.halfLoss * 100).toFixed(2)}% | \`${r.command}\` |`),
    '', '| gateway | sender | payload | workers | gateway / nginx, forwarded/s | gateway / nginx, per CPU-second | gateway / C forwarder, per CPU-second |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const g of rows.filter((r) => r.proxy.startsWith('gateway'))) {
    const same = (proxy: string) => rows.find((r) => r.proxy === proxy && r.size === g.size && r.workers === g.workers && r.sender === g.sender);
    const n = same('nginx'), c = same('c');
    const x = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
    if (n || c) out.push(`| ${g.proxy} | ${g.sender} | ${g.size} B | ${g.workers} | ${x(n && g.forwarded / n.forwarded)} | ${x(n && g.perCpu / n.perCpu)} | ${x(c && g.perCpu / c.perCpu)} |`);
  }
  if (skipped) out.push('', `nginx rows skipped: ${skipped}`);
  return out.join('\n');
}

export async function runSideBySide(args: string[]): Promise<number> {
  const o = options(args);
  pinHarness();
  const bin = buildUdpbench();
  // Compile the CLI before the first case: its sink's lifetime is counted from the case's start,
  // and tsc on a busy machine took longer than that (the sink was gone before the latency phase).
  if (o.proxies.includes('gateway')) builtCli();
  let nginx: NginxInstall = { reason: 'not requested' };
  if (o.proxies.includes('nginx')) nginx = ensureNginx(log);
  if (nginx.reason && o.proxies.includes('nginx')) log(`nginx rows skipped: ${nginx.reason}\n`);
  const all: Row[][] = [];
  for (let run = 1; run <= o.runs; run++) {
    const rows: Row[] = [];
    const offloads = o.offload.length ? o.offload.map((m) => `/${m}`) : [''];
    const coalesces = o.coalesce.length ? o.coalesce.map((c) => `/rx${c}`) : [''];
    const flows = o.flow.length ? o.flow.map((f) => (f === 'off' ? '/flow-off' : '')) : [''];
    const builds = ['', ...o.clis.map(([label]) => `@${label}`)];
    const proxies = o.proxies.flatMap((p) => (p === 'gateway' ? builds.flatMap((b) => offloads.flatMap((m) => (b ? [''] : coalesces).flatMap((c) => (b ? [''] : flows).map((f) => `gateway${b}${m}${c}${f}`)))) : [p]));
    for (const size of o.sizes) for (const gso of o.gso) for (const workers of o.workers) for (const proxy of proxies) {
      if ((proxy === 'nginx' && nginx.reason) || (proxy === 'c' && workers > 1)) continue;
      log(`${o.runs > 1 ? `run ${run}/${o.runs}: ` : ''}${proxy}, ${gso > 1 ? `gso${gso}` : 'plain'} sender, ${workers} worker(s), ${size} B ... `);
      const r = await measure(o, bin, nginx, proxy, size, workers, gso);
      rows.push(r);
      log(`${k(r.forwarded)}/s forwarded, ${k(r.perCpu)} per CPU-s, p50/p99 ${int(r.p50)}/${int(r.p99)} µs (to the sink's kernel ${int(r.kp50)}/${int(r.kp99)}) at ${k(r.halfRate)}/s (waited ${r.latWaitMs.toFixed(0)} ms for a CPU)\n`);
    }
    all.push(rows);
    console.log(`udp proxy side by side${o.runs > 1 ? `, run ${run} of ${o.runs}` : ''}: ${o.seconds} s peak after ${WARMUP_S} s warm-up, ${o.flows} client flows, latency ${o.latSeconds} s open loop at ${o.latRate ? `${o.latRate}/s for every proxy` : 'half of each peak'} after ${o.latWarmup} s of the same load`);
    console.log(table(rows, o.proxies.includes('nginx') ? nginx.reason : undefined));
  }
  if (o.runs > 1) console.log(`\n${summary(all)}`);
  return 0;
}

/** Over several runs: the range of each ratio and of each proxy's p99, case by case. */
function summary(runs: Row[][]): string {
  const range = (xs: number[], f: (x: number) => string) => (xs.length ? `${f(Math.min(...xs))}–${f(Math.max(...xs))}` : 'n/a');
  const out = [`Over ${runs.length} runs (target, issue 15: per CPU-second ≥ 2x nginx and above the C forwarder, p99 < 1 ms at half load):`, '',
    '| gateway | sender | payload | workers | gateway / nginx, forwarded/s | gateway / nginx, per CPU-second | gateway / C forwarder, per CPU-second | gateway p99 µs @ half | nginx p99 µs @ half | gateway runs with p99 < 1 ms | the same, to the sink\'s kernel | runs meeting the target |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const cases = runs[0]!.filter((r) => r.proxy.startsWith('gateway'));
  for (const c of cases) {
    const same = (r: Row, proxy: string) => r.proxy === proxy && r.size === c.size && r.workers === c.workers && r.sender === c.sender;
    const pick = (proxy: string) => runs.map((rows) => rows.find((r) => same(r, proxy))).filter((r): r is Row => !!r);
    const g = pick(c.proxy), n = pick('nginx');
    const ratio = (other: string, f: (r: Row) => number) => runs.map((rows) => {
      const gr = rows.find((r) => same(r, c.proxy)), nr = rows.find((r) => same(r, other));
      return gr && nr ? f(gr) / f(nr) : Number.NaN;
    }).filter(Number.isFinite);
    const met = runs.filter((rows) => {
      const gr = rows.find((r) => same(r, c.proxy)), nr = rows.find((r) => same(r, 'nginx')), cr = rows.find((r) => same(r, 'c'));
      return gr && nr && gr.perCpu >= 2 * nr.perCpu && (!cr || gr.perCpu > cr.perCpu) && gr.p99 < 1000;
    }).length;
    const x = (v: number) => `${v.toFixed(2)}x`;
    out.push(`| ${c.proxy} | ${c.sender} | ${c.size} B | ${c.workers} | ${range(ratio('nginx', (r) => r.forwarded), x)} | ${range(ratio('nginx', (r) => r.perCpu), x)} | ${range(ratio('c', (r) => r.perCpu), x)} | ${range(g.map((r) => r.p99), int)} | ${range(n.map((r) => r.p99), int)} | ${g.filter((r) => r.p99 < 1000).length} of ${g.length} | ${g.filter((r) => r.kp99 < 1000).length} of ${g.length} | ${met} of ${runs.length} |`);
  }
  // Every proxy, median (range) over the runs: the figures a README table quotes.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const mr = (xs: number[], f: (x: number) => string) => (xs.length ? `${f(median(xs))} (${range(xs, f)})` : 'n/a');
  out.push('', '| proxy | sender | payload | workers | forwarded/s | per proxy CPU-second | p50 µs @ half | p99 µs @ half | p99 µs @ half, to the sink\'s kernel | waited for a CPU in the latency window, ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of runs[0]!) {
    const all = runs.map((rows) => rows.find((r) => r.proxy === c.proxy && r.size === c.size && r.workers === c.workers && r.sender === c.sender)).filter((r): r is Row => !!r);
    out.push(`| ${c.proxy} | ${c.sender} | ${c.size} B | ${c.workers} | ${mr(all.map((r) => r.forwarded), k)} | ${mr(all.map((r) => r.perCpu), k)} | ${mr(all.map((r) => r.p50), int)} | ${mr(all.map((r) => r.p99), int)} | ${mr(all.map((r) => r.kp99), int)} | ${mr(all.map((r) => r.latWaitMs), int)} |`);
  }
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runSideBySide(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e); process.exit(1); });
}
