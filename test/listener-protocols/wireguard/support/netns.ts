/**
 * A network namespace joined to the host by a veth pair, with wireguard-go interfaces inside.
 * Addresses come from 10.213.<slot>.0/30 and exist only on this pair; everything is removed by
 * close(), which tolerates half-made setups.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

/**
 * Why this machine cannot make network namespaces (not root, or not permitted, as in an
 * unprivileged container), or undefined when it can. Other failures are retried and then
 * thrown: they must fail the test, not skip it.
 */
export function canMakeNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  const probe = `ugw-probe-${process.pid}`;
  for (let attempt = 1; ; attempt++) {
    try {
      run('ip', ['netns', 'add', probe]);
      run('ip', ['netns', 'del', probe]);
      return undefined;
    } catch (e) {
      const message = String((e as { stderr?: string }).stderr || (e as Error).message);
      if (/not permitted|permission denied/i.test(message)) return message.trim().split('\n')[0];
      if (attempt === 3) throw new Error(`ip netns add failed: ${message}`);
    }
  }
}

export interface WgInterface {
  name: string;
  publicKey: string;
  privateKey: string;
  listenPort: number;
}

export class Namespace {
  readonly name: string;
  readonly hostAddress: string;
  readonly nsAddress: string;
  private readonly vethHost: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ugw-wg-'));
  private readonly children: ChildProcess[] = [];
  private readonly tag = String(process.pid % 100_000);

  constructor(slot: number) {
    this.name = `ugw-wg-${process.pid}-${slot}`;
    this.vethHost = `ugwh${this.tag}`;
    this.hostAddress = `10.213.${slot}.1`;
    this.nsAddress = `10.213.${slot}.2`;
  }

  create(): void {
    const vethNs = `ugwn${this.tag}`;
    run('ip', ['netns', 'add', this.name]);
    run('ip', ['link', 'add', this.vethHost, 'type', 'veth', 'peer', 'name', vethNs]);
    run('ip', ['link', 'set', vethNs, 'netns', this.name]);
    run('ip', ['addr', 'add', `${this.hostAddress}/30`, 'dev', this.vethHost]);
    run('ip', ['link', 'set', this.vethHost, 'up']);
    this.exec('ip', ['addr', 'add', `${this.nsAddress}/30`, 'dev', vethNs]);
    this.exec('ip', ['link', 'set', vethNs, 'up']);
    this.exec('ip', ['link', 'set', 'lo', 'up']);
  }

  exec(cmd: string, args: string[], input?: string): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], input);
  }

  spawn(cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /**
   * Start wireguard-go with a tun device `name` and configure it with `wg set`: one peer (the
   * engine) at `engineEndpoint`, inner address `innerCidr`. Resolves once `wg show` answers.
   */
  async startWireguardGo(suffix: string, opts: { privateKey: string; listenPort: number; innerCidr: string; peerKey: string; peerEndpoint: string; peerAllowed: string; presharedKey?: string }): Promise<WgInterface> {
    const name = `wg${this.tag}${suffix}`;
    const child = this.spawn('wireguard-go', ['-f', name]);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => { log += d; });
    child.stderr!.on('data', (d: Buffer) => { log += d; });
    await waitFor(() => { try { this.exec('wg', ['show', name]); return true; } catch { return false; } }, 5_000, () => `wireguard-go did not come up: ${log}`);
    const privateKey = opts.privateKey;
    const keyFile = join(this.dir, `${name}.key`);
    writeFileSync(keyFile, privateKey, { mode: 0o600 });
    const psk = opts.presharedKey ? ['preshared-key', join(this.dir, `${name}.psk`)] : [];
    if (opts.presharedKey) writeFileSync(psk[1]!, opts.presharedKey, { mode: 0o600 });
    this.exec('wg', ['set', name, 'private-key', keyFile, 'listen-port', String(opts.listenPort),
      'peer', opts.peerKey, ...psk, 'endpoint', opts.peerEndpoint, 'allowed-ips', opts.peerAllowed]);
    this.exec('ip', ['addr', 'add', opts.innerCidr, 'dev', name]);
    this.exec('ip', ['link', 'set', name, 'up']);
    return { name, privateKey, publicKey: run('wg', ['pubkey'], privateKey), listenPort: opts.listenPort };
  }

  /** Stop what we started (and wait, so nothing is left a zombie), then remove the namespace and veth. */
  async close(): Promise<void> {
    await Promise.all(this.children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
    }));
    try { run('ip', ['netns', 'del', this.name]); } catch { /* never made */ }
    try { run('ip', ['link', 'del', this.vethHost]); } catch { /* went with the namespace */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll `check` every 20 ms until true; reject with `why()` after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lines of JSON a child prints, as a promise per line. */
export function jsonLines(child: ChildProcess): { next(timeoutMs: number): Promise<Record<string, unknown>> } {
  const lines: string[] = [];
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  return {
    async next(timeoutMs) {
      await waitFor(() => lines.length > 0, timeoutMs, () => 'no output from the namespace peer');
      return JSON.parse(lines.shift()!) as Record<string, unknown>;
    },
  };
}
