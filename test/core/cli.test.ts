/** The CLI as a user runs it: a real process, real signals, real files. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UdpClient, eventually } from '../support/udp-client.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = ['--import', 'tsx', join(ROOT, 'app/cli.ts')];
let procs: ChildProcess[] = [];
let clients: UdpClient[] = [];
afterEach(async () => {
  procs.forEach((p) => p.exitCode === null && p.kill('SIGKILL'));
  await Promise.all(clients.map((c) => c.close()));
  procs = []; clients = [];
});

function tmp(): string { return mkdtempSync(join(tmpdir(), 'udpgw-cli-')); }

/** Start the gateway; resolves with the UDP port and admin URL read from its JSON logs. */
function start(config: string, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; udpPort: number; adminUrl: string; logs: string[] }> {
  const proc = spawn(process.execPath, [...CLI, 'start', '--config', config], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  const logs: string[] = [];
  return new Promise((resolveStart, reject) => {
    let udpPort = 0;
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        logs.push(line);
        const j = JSON.parse(line);
        if (j.msg === 'listening') udpPort = j.address.port;
        if (j.msg === 'admin API listening') resolveStart({ proc, udpPort, adminUrl: j.url, logs });
      }
    });
    proc.on('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
}

describe('udp-gateway CLI', () => {
  it('SIGTERM flushes what was queued, then exits 0', async () => {
    const dir = tmp();
    const cfg = join(dir, 'gw.yaml');
    writeFileSync(cfg, `secret: cli-test-secret-0123456789
admin: { port: 0 }
listeners:
  - name: edge
    port: 0
    destinations:
      - type: file
        path: out/packets.ndjson
        batch: { maxPackets: 1000, lingerMs: 60000 }
`);
    const gw = await start(cfg);
    const c = await UdpClient.open(); clients.push(c);
    for (let i = 0; i < 25; i++) await c.send(`packet-${i}`, gw.udpPort);
    await eventually(async () => /udpgw_destination_queued\{destination="edge\/file"\} 25/.test(await (await fetch(`${gw.adminUrl}/metrics`)).text()), 5000, '25 queued');
    expect(existsSync(join(dir, 'out/packets.ndjson'))).toBe(false);
    const exited = new Promise<number | null>((r) => gw.proc.on('exit', (code) => r(code)));
    gw.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = readFileSync(join(dir, 'out/packets.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => Buffer.from(l.Data, 'base64').toString())).toEqual(Array.from({ length: 25 }, (_, i) => `packet-${i}`));
  });

  it('readyz answers 200 while serving', async () => {
    const dir = tmp();
    const cfg = join(dir, 'gw.json');
    writeFileSync(cfg, JSON.stringify({ admin: { port: 0 }, listeners: [{ name: 'e', port: 0, destinations: [{ type: 'file', path: 'p.ndjson' }] }] }));
    const gw = await start(cfg);
    expect((await fetch(`${gw.adminUrl}/readyz`)).status).toBe(200);
    const status = await (await fetch(`${gw.adminUrl}/v1/status`)).json();
    expect(status.listeners[0]).toMatchObject({ name: 'e', port: gw.udpPort, transport: expect.any(String), destinations: ['file'] });
    expect(gw.logs.some((l) => l.includes('generated one for this process'))).toBe(true);
  });

  it('validate lists every problem of an invalid file with its path, and exits 1', () => {
    const dir = tmp();
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, `listeners:
  - name: edge
    port: 99999
    colour: blue
    destinations:
      - type: file
      - type: nonsense
`);
    const r = spawnSync(process.execPath, [...CLI, 'validate', cfg], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('UGW_ERR_CONFIG_INVALID');
    expect(r.stderr).toContain('/listeners/0/port');
    expect(r.stderr).toContain('/listeners/0/colour: unknown key');
    // Destination problems are listed in the same run as the outer ones.
    expect(r.stderr).toContain('/listeners/0/destinations/0/path: is required');
    expect(r.stderr).toMatch(/\/listeners\/0\/destinations\/1\/type: unknown destination type "nonsense"/);
  });

  it('validate checks destination options once the shape is right', () => {
    const dir = tmp();
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'listeners:\n  - name: edge\n    port: 5\n    destinations:\n      - type: file\n      - type: nonsense\n');
    const r = spawnSync(process.execPath, [...CLI, 'validate', cfg], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/listeners/0/destinations/0/path: is required');
    expect(r.stderr).toMatch(/\/listeners\/0\/destinations\/1\/type: unknown destination type "nonsense": use one of .*file/);
    const ok = join(dir, 'ok.yaml');
    writeFileSync(ok, 'listeners:\n  - name: edge\n    port: 5\n    destinations:\n      - type: file\n        path: x.ndjson\n');
    const v = spawnSync(process.execPath, [...CLI, 'validate', ok], { cwd: ROOT, encoding: 'utf8' });
    expect(v.stdout).toContain('valid');
    expect(v.status).toBe(0);
  });

  it('a port already in use is a clear error', async () => {
    const c = await UdpClient.open(); clients.push(c);
    const dir = tmp();
    const cfg = join(dir, 'gw.yaml');
    writeFileSync(cfg, `admin: { enabled: false }\nlisteners:\n  - name: edge\n    port: ${c.port}\n    destinations: [{ type: file, path: x.ndjson }]\n`);
    const r = spawnSync(process.execPath, [...CLI, 'start', '--config', cfg], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/UGW_ERR_LISTENER_BIND: listener "edge" cannot bind udp 127.0.0.1:\d+: .*(EADDRINUSE|address already in use)/);
  });
});
