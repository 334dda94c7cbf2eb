/**
 * Processes for bench/side-by-side.ts: the C load tools (bench/native/udpbench.c), the gateway
 * (its CLI, as users run it) and nginx's stream UDP proxy in a temporary prefix. Everything binds
 * 127.0.0.1; every process started here is stopped by the caller through `stop()`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
const HOST = '127.0.0.1';

export function hasTaskset(): boolean {
  return spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/**
 * Pins this harness process (all its threads) to CPU 0, with the load tools, so that it never
 * preempts the proxy measured on CPU 1 (its own work is small, but on CPU 1 it showed as tens of ms
 * of run-queue wait for the proxy per 3-second window: bench/p99-probe.ts).
 */
export function pinHarness(): void {
  if (hasTaskset()) execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
}

/** Runs `argv` on `cpus` (e.g. "0") when taskset exists and cpus is set; at nice 19 when `nice`. */
function pinned(cpus: string | undefined, argv: string[], nice = false): [string, string[]] {
  const all = [...(nice ? ['nice', '-n', '19'] : []), ...(cpus && hasTaskset() ? ['taskset', '-c', cpus] : []), ...argv];
  return [all[0]!, all.slice(1)];
}

export function buildUdpbench(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'udpbench-')), 'udpbench');
  execFileSync('cc', ['-O2', '-o', out, join(ROOT, 'bench/native/udpbench.c')], { stdio: 'inherit' });
  return out;
}

/** A udpbench child: "port N", "count N", "sent N", "lat n p50 p99 max" (one-way latency to the sink's
 *  read) and "klat ..." (to the kernel's receive timestamp at the sink) lines are tracked. */
export class Tool {
  count = 0;
  sent = 0;
  lat = { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  klat = { n: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  readonly port: Promise<number>;
  readonly done: Promise<void>;
  private resets = 0;
  private onReset: (() => void) | undefined;
  private readonly child: ChildProcess;
  get pid(): number { return this.child.pid ?? 0; }

  /** nice: the sender runs at nice 19, so the sink (and the proxy) get the CPU they need first. */
  constructor(bin: string, args: string[], cpus?: string, nice = false) {
    const [cmd, argv] = pinned(cpus, [bin, ...args], nice);
    this.child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let resolvePort!: (p: number) => void;
    this.port = new Promise((r) => { resolvePort = r; });
    this.done = new Promise((r) => this.child.once('close', () => r())); // 'close': stdout read to the end
    let buf = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [k, ...v] = l.split(' ').map((x, i) => (i ? Number(x) : x)) as [string, ...number[]];
        if (k === 'port') resolvePort(v[0]!);
        else if (k === 'count') this.count = v[0]!;
        else if (k === 'sent') this.sent = v[0]!;
        else if (k === 'lat') this.lat = { n: v[0]!, p50: v[1]!, p99: v[2]!, max: v[3]! };
        else if (k === 'klat') this.klat = { n: v[0]!, p50: v[1]!, p99: v[2]!, max: v[3]! };
        else if (k === 'reset') { this.resets++; this.onReset?.(); }
      }
    });
  }

  /** A sink forgets the latencies recorded so far (warm-up excluded); resolves once it has. */
  async resetLatency(): Promise<void> {
    const want = this.resets + 1;
    const done = new Promise<void>((r) => { this.onReset = () => { if (this.resets >= want) r(); }; });
    this.child.kill('SIGUSR1');
    await done;
  }

  /** SIGTERM (the sink then prints its final count and latency) and wait for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.done;
  }
}

/** A free UDP port on 127.0.0.1 (bound and released; the proxies bind it right after). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A /proc/.../stat line: the command name, and the fields after it (field 3 of proc(5) is f[0]). */
function parseStat(text: string): { name: string; f: string[] } {
  const close = text.lastIndexOf(')');
  return { name: text.slice(text.indexOf('(') + 1, close), f: text.slice(close + 2).split(' ') };
}

/** Every process as pid -> [parent pid, utime + stime in clock ticks of 1/100 s]. */
function processes(): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const { f } = parseStat(readFileSync(`/proc/${d}/stat`, 'utf8'));
      out.set(Number(d), [Number(f[1]), Number(f[11]) + Number(f[12])]);
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** The pids of a process and all its descendants. */
function treePids(root: number, procs = processes()): number[] {
  const inTree = (pid: number): boolean => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = procs.get(p)?.[0] ?? 0, i++) if (p === root) return true;
    return false;
  };
  return [...procs.keys()].filter(inTree);
}

/** utime + stime (s) of a process and all its descendants, from /proc (clock ticks of 1/100 s). */
export function treeCpuSeconds(root: number): number {
  const procs = processes();
  return treePids(root, procs).reduce((sum, pid) => sum + procs.get(pid)![1], 0) / 100;
}

export interface TaskStat { readonly name: string; readonly cpuMs: number; readonly lastCpu: string; readonly runDelayNs: number }

/** The threads of the given processes (all processes when none are given), by "pid/tid". */
export function taskStats(pids?: readonly number[]): Map<string, TaskStat> {
  const out = new Map<string, TaskStat>();
  for (const pid of pids ?? processes().keys()) {
    let tids: string[];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const { name, f } = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
        const runDelayNs = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
        out.set(`${pid}/${tid}`, { name, cpuMs: (Number(f[11]) + Number(f[12])) * 10, lastCpu: f[36]!, runDelayNs });
      } catch { /* ended */ }
    }
  }
  return out;
}

/**
 * Milliseconds the threads of a process tree have waited on a run queue for a CPU, in total
 * (run_delay in /proc/<tid>/schedstat): read before and after a latency window, it tells a proxy
 * that was kept off its CPU (by another process, or its own threads) from one that stalled on it.
 */
export function treeRunDelayMs(root: number): number {
  let ns = 0;
  for (const t of taskStats(treePids(root)).values()) ns += t.runDelayNs;
  return ns / 1e6;
}

export interface Proxy {
  readonly pid: number;
  readonly command: string;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return done.finally(() => clearTimeout(force));
}

let built = false;
/** The CLI as users run it (`node dist/app/cli.js`), built from the current sources once per run. */
export function builtCli(): string {
  if (!built) {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
    built = true;
  }
  return join(ROOT, 'dist/app/cli.js');
}

/**
 * The gateway's udp proxy path, through its CLI: listener → `udp` destination → sink.
 * workers > 1 runs `--workers N` (SO_REUSEPORT workers); the native transport is required.
 */
export interface GatewayLaunch {
  /** Another build's CLI (e.g. a checkout of main, for before/after runs); default: this one's. */
  readonly cli?: string;
  /** A command the gateway runs under (e.g. valgrind --tool=callgrind). */
  readonly wrap?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** The listener's destinations instead of one `udp` destination to the sink. */
  readonly destinations?: readonly unknown[];
  /** More listener keys (e.g. receiveCoalesceMicros). */
  readonly listener?: Readonly<Record<string, unknown>>;
  /** Node options for the gateway's process (e.g. --trace-gc, which NODE_OPTIONS does not take). */
  readonly nodeArgs?: readonly string[];
  /** Everything the gateway prints (its log, and e.g. NODE_OPTIONS=--trace-gc lines) also goes here. */
  readonly logFile?: string;
}

export async function startGateway(port: number, sinkPort: number, workers: number, cpus?: string, env: Record<string, string> = {}, launch: GatewayLaunch = {}): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-sbs-'));
  const cfg = join(dir, 'gateway.json');
  writeFileSync(cfg, JSON.stringify({
    secret: 'bench-secret-0123456789abcdef', log: { level: 'info' }, admin: { enabled: false },
    listeners: [{ name: 'bench', host: HOST, port, receiveBufferBytes: 4 << 20, sendBufferBytes: 4 << 20, ...launch.listener,
      destinations: launch.destinations ?? [{ name: 'sink', type: 'udp', backends: [`${HOST}:${sinkPort}`] }] }],
  }));
  const args = [...(launch.wrap ?? []), process.execPath, ...(launch.nodeArgs ?? []), launch.cli ?? builtCli(), 'start', '--config', cfg, ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const [cmd, argv] = pinned(cpus, args);
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, UDPGW_TRANSPORT: 'native', UDPGW_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const ready = new Promise<void>((res, rej) => {
    const onData = (d: Buffer) => {
      log += d.toString();
      if (launch.logFile) appendFileSync(launch.logFile, d);
      if ((log.match(/"msg":"listening"/g) ?? []).length >= workers) res();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); if (launch.logFile) appendFileSync(launch.logFile, d); });
    child.once('exit', (c) => rej(new Error(`gateway exited (${c}) before listening:\n${log.slice(-2000)}`)));
    const ms = launch.readyTimeoutMs ?? 30_000;
    setTimeout(() => rej(new Error(`gateway not listening after ${ms / 1000} s:\n${log.slice(-2000)}`)), ms).unref();
  });
  try { await ready; } catch (err) { await stopChild(child, 'SIGKILL'); throw err; }
  if (!/"transport":"native"/.test(log)) { await stopChild(child, 'SIGTERM'); throw new Error(`gateway did not use the native transport:\n${log.slice(-2000)}`); }
  const keys = Object.entries(launch.listener ?? {}).map(([k, v]) => ` (listener ${k}: ${JSON.stringify(v)})`).join('');
  return { pid: child.pid!, command: `${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}UDPGW_TRANSPORT=native udp-gateway start --config <cfg>${keys}${workers > 1 ? ` --workers ${workers}` : ''}`, stop: () => stopChild(child, 'SIGTERM') };
}

/**
 * The plain C recvmmsg/sendmmsg forwarder (udpbench fwd: poll, recvmmsg 64, sendmmsg; no offload),
 * the reference for what batched system calls alone do in the same harness. It binds a port of its
 * own (resolved in `port`) and lives at most `seconds`.
 */
export async function startCForwarder(bin: string, sinkPort: number, seconds: number, cpus?: string): Promise<Proxy & { port: number }> {
  const tool = new Tool(bin, ['fwd', String(sinkPort), String(seconds)], cpus);
  const port = await tool.port;
  return { pid: tool.pid, port, command: `udpbench fwd ${sinkPort} ${seconds}`, stop: () => tool.stop() };
}

export interface NginxInstall { readonly bin?: string; readonly module?: string; readonly reason?: string }

const NGINX_BINS = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
const STREAM_MODULES = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'];

/** nginx with the stream module: built in (--with-stream) or Debian's dynamic libnginx-mod-stream. */
function findNginx(): NginxInstall {
  const bin = NGINX_BINS.find((b) => existsSync(b));
  if (!bin) return { reason: 'nginx is not installed' };
  const v = spawnSync(bin, ['-V'], { encoding: 'utf8' }).stderr ?? '';
  if (/--with-stream(\s|$)/.test(v)) return { bin };
  const module = STREAM_MODULES.find((m) => existsSync(m));
  return module ? { bin, module } : { bin, reason: 'nginx has no stream module (Debian: libnginx-mod-stream)' };
}

/**
 * Finds nginx, or installs Debian's `nginx` and `libnginx-mod-stream` with apt-get (as root, with
 * network); `apt-get update` once if the first install fails. The packages' start-up of a system
 * service is not wanted: where /usr/sbin/policy-rc.d refuses (containers) none starts.
 */
export function ensureNginx(log: (s: string) => void): NginxInstall {
  const found = findNginx();
  if (!found.reason) return found;
  if (process.getuid?.() !== 0) return { reason: `${found.reason}, and installing it needs root (apt-get install -y nginx libnginx-mod-stream)` };
  if (!existsSync('/usr/bin/apt-get')) return { reason: `${found.reason}, and there is no apt-get here` };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx', 'libnginx-mod-stream'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', timeout: 300_000 });
  log(`${found.reason}: apt-get install -y nginx libnginx-mod-stream\n`);
  let r = install();
  if (r.status !== 0) {
    log('install failed; apt-get update, then again\n');
    spawnSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
    r = install();
  }
  const after = findNginx();
  return after.reason ? { reason: `${after.reason} (apt-get: ${(r.stderr ?? '').trim().split('\n').pop() ?? r.status})` } : after;
}

/** nginx in a temporary prefix with bench/nginx/nginx.conf.template; the system config is not read. */
export async function startNginx(nginx: NginxInstall, port: number, sinkPort: number, workers: number, responses: string, cpus?: string): Promise<Proxy> {
  const prefix = mkdtempSync(join(tmpdir(), 'nginx-sbs-'));
  const conf = readFileSync(join(ROOT, 'bench/nginx/nginx.conf.template'), 'utf8')
    .replaceAll('{{LOAD_MODULE}}', nginx.module ? `load_module ${nginx.module};` : '')
    .replaceAll('{{WORKERS}}', String(workers)).replaceAll('{{PREFIX}}', prefix)
    .replaceAll('{{PORT}}', String(port)).replaceAll('{{SINK}}', String(sinkPort))
    .replaceAll('{{RESPONSES}}', responses === '' ? '' : `proxy_responses ${Number(responses)};`);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const argv = [nginx.bin!, '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log'), '-g', 'daemon off;'];
  const [cmd, args] = pinned(cpus, argv);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<never>((_, rej) => child.once('exit', (c) => rej(new Error(`nginx exited (${c}): ${err}${readOr(join(prefix, 'error.log'))}`))));
  exited.catch(() => {});
  // Ready when the workers run: nginx binds in the master before forking them.
  for (let i = 0; i < 200 && childCount(child.pid!) < workers; i++) await Promise.race([exited, new Promise((r) => setTimeout(r, 25))]);
  return { pid: child.pid!, command: `nginx -p <tmp> -c <tmp>/nginx.conf -g 'daemon off;' (worker_processes ${workers})`, stop: () => stopChild(child, 'SIGTERM') };
}

function readOr(file: string): string { try { return readFileSync(file, 'utf8'); } catch { return ''; } }

/** Processes whose parent is pid (the nginx master's workers; taskset execs nginx in place). */
function childCount(pid: number): number {
  let n = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid) n++; } catch { /* gone */ }
  }
  return n;
}
