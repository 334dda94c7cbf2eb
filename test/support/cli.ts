/**
 * The CLI as users run it, in real child processes: from the TypeScript sources (under tsx, from
 * any working directory) or from the built package. Every process started here is killed by
 * `stopAll()` (call it in afterEach).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');
/** `node <CLI_ARGS> start …` runs app/cli.ts from any directory (tsx by absolute URL, not by name). */
export const CLI_ARGS = ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'app/cli.ts')];

export interface CliRunOptions { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string }

export function runCli(args: string[], opts: CliRunOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...CLI_ARGS, ...args], {
    cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}

export interface RunningCli {
  readonly proc: ChildProcess;
  /** stdout lines (JSON logs, parsed where they parse), raw text kept too. */
  readonly logs: Record<string, unknown>[];
  readonly rawLogs: string[];
  stderr(): string;
  /** Resolves with the first log line matching, or rejects after `ms` or when the process exits. */
  waitForLog(match: (l: Record<string, unknown>) => boolean, ms?: number, what?: string): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const started: { proc: ChildProcess; group: boolean }[] = [];

/** A signal to the process, or to its whole process group (a wrapper such as npx runs the gateway
 *  as a grandchild through sh, and passes no signal on: the gateway would outlive the test). */
function signal(proc: ChildProcess, group: boolean, sig: NodeJS.Signals): void {
  if (group && proc.pid !== undefined) {
    try { process.kill(-proc.pid, sig); } catch { /* the group is gone */ } // even after its leader (npx) exited
    return;
  }
  if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
}

/** Whether any process of the child's process group is still running (only for group children). */
export function groupAlive(proc: ChildProcess): boolean {
  try { process.kill(-proc.pid!, 0); return true; } catch { return false; }
}

export function stopAll(): void {
  for (const { proc, group } of started.splice(0)) signal(proc, group, 'SIGKILL');
}

/** Start `node <cmd…>` (default: the CLI from source) and collect its output. */
export function startProcess(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; group?: boolean } = {}): RunningCli {
  const group = opts.group ?? false;
  const proc = spawn(process.execPath, argv, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
  started.push({ proc, group });
  const logs: Record<string, unknown>[] = [];
  const rawLogs: string[] = [];
  let err = '';
  let buf = '';
  let waiters: (() => void)[] = [];
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => { r(code); waiters.splice(0).forEach((w) => w()); }));
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); waiters.splice(0).forEach((w) => w()); });
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      rawLogs.push(line);
      try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON */ }
    }
    waiters.splice(0).forEach((w) => w());
  });
  return {
    proc, logs, rawLogs,
    stderr: () => err,
    async waitForLog(match, ms = 15_000, what = 'a log line') {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = logs.find(match);
        if (hit) return hit;
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before ${what}; stderr: ${err}\nstdout: ${rawLogs.join('\n')}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${what} within ${ms} ms; stderr: ${err}\nstdout: ${rawLogs.join('\n')}`);
        await new Promise<void>((r) => { const t = setTimeout(r, left); waiters.push(() => { clearTimeout(t); r(); }); });
      }
    },
    async stop(sig = 'SIGTERM') {
      signal(proc, group, sig);
      const code = await exited;
      // A group's other members (the gateway under npx) may still be draining: wait for them, bounded.
      for (let i = 0; group && i < 200 && groupAlive(proc); i++) await new Promise((r) => setTimeout(r, 50));
      return code;
    },
  };
}

/** Start the gateway CLI from source (or `entry` = another, such as npx: then it runs in a process
 *  group of its own, and stop() and stopAll() signal the whole group); resolves once its banner is
 *  printed (everything started), with the first listener's port and the admin URL read from the banner. */
export async function startGateway(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; entry?: string[]; timeoutMs?: number } = {}): Promise<RunningCli & { udpPort: number; adminUrl: string | undefined; banner: string }> {
  const run = startProcess([...(opts.entry ?? CLI_ARGS), ...args], { ...opts, group: opts.entry !== undefined });
  await waitForStderr(run, /udp-gateway is running[\s\S]*stop with Ctrl-C/, opts.timeoutMs ?? 30_000);
  const banner = run.stderr();
  const udpPort = Number(/listener \S+: udp \S+:(\d+)/.exec(banner)![1]);
  const adminUrl = /admin API: (http:\/\/\S+)/.exec(banner)?.[1];
  return Object.assign(run, { udpPort, adminUrl, banner });
}

/** Wait until the process's stderr matches (bounded), or fail with what it printed. */
export async function waitForStderr(run: RunningCli, pattern: RegExp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(run.stderr())) {
    if (run.proc.exitCode !== null || run.proc.signalCode !== null) throw new Error(`process exited (${run.proc.exitCode ?? run.proc.signalCode}); stderr: ${run.stderr()}\nstdout: ${run.rawLogs.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`stderr did not match ${pattern} within ${ms} ms; stderr: ${run.stderr()}\nstdout: ${run.rawLogs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Keys that occur twice in one JSON object anywhere in `text` (JSON.parse keeps only the last). */
export function duplicateKeys(text: string): string[] {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  const dups: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = text.slice(i + 1, j);
        if (top.keys.has(key)) dups.push(key); else top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (ch === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (ch === '[') stack.push({ keys: undefined, expectKey: false });
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',') { const top = stack[stack.length - 1]; if (top?.keys) top.expectKey = true; }
  }
  return dups;
}

/** Run the CLI to completion without blocking the test's event loop (several at once). */
export function runCliAsync(args: string[], opts: CliRunOptions & { entry?: string[] } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const group = opts.entry !== undefined;
    const p = spawn(process.execPath, [...(opts.entry ?? CLI_ARGS), ...args], { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    started.push({ proc: p, group });
    let stdout = '', stderr = '';
    p.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => { signal(p, group, 'SIGKILL'); reject(new Error(`udp-gateway ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 30_000} ms; stderr: ${stderr}`)); }, opts.timeoutMs ?? 30_000);
    p.on('close', (status) => { clearTimeout(t); resolvePromise({ status, stdout, stderr }); });
  });
}
