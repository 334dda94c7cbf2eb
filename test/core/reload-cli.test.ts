/**
 * Reload as users run it: SIGHUP to a real CLI process (one process, and --workers 2), and the
 * systemd notifications around it, read from a real AF_UNIX datagram socket standing in for
 * systemd's $NOTIFY_SOCKET (python3), sent by the real systemd-notify.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { UdpClient, eventually } from '../support/udp-client.js';
import { startGateway, startProcess, stopAll, waitForStderr, CLI_ARGS } from '../support/cli.js';
import { loadNativeAddon } from '../../net/native-addon.js';

let clients: UdpClient[] = [];
const helpers: ChildProcess[] = [];
afterEach(async () => {
  stopAll();
  for (const h of helpers.splice(0)) h.kill('SIGKILL');
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

const tmp = () => mkdtempSync(join(tmpdir(), 'udpgw-reload-cli-'));
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => Buffer.from(JSON.parse(l).Data, 'base64').toString()) : []);

function config(port: number, adminPort: number, archives: string[], extra = ''): string {
  return `secret: reload-cli-secret-0123456789
admin: { port: ${adminPort}, token: reload-cli-token }
${extra}listeners:
  - name: edge
    port: ${port}
    destinations:
${archives.map((a) => `      - { name: ${a}, type: file, path: out/${a}.ndjson, batch: { lingerMs: 0 } }`).join('\n')}
`;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A stand-in for systemd's notify socket: a real AF_UNIX datagram socket, each message one JSON line. */
async function notifySocket(dir: string): Promise<{ path: string; messages: string[] }> {
  const path = join(dir, 'notify.sock');
  const py = spawn('python3', ['-u', '-c', `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("bound"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  helpers.push(py);
  const messages: string[] = [];
  let buf = '';
  py.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { messages.push(JSON.parse(buf.slice(0, i)) as string); buf = buf.slice(i + 1); }
  });
  await eventually(() => messages[0] === 'bound', 5000, 'the notify socket to be bound');
  messages.shift();
  return { path, messages };
}

const hasSystemdNotify = spawnSync('systemd-notify', ['--version']).status === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;

describe('reload from the command line', () => {
  it('SIGHUP reloads: a destination added to the file receives, an invalid file is refused with its path and changes nothing', async () => {
    const dir = tmp();
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, config(0, 0, ['a']));
    const gw = await startGateway(['start', '--config', file]);
    const c = await UdpClient.open(); clients.push(c);
    writeFileSync(file, config(0, 0, ['a', 'b']));
    gw.proc.kill('SIGHUP');
    const applied = await gw.waitForLog((l) => String(l.msg).startsWith('reload applied'), 15_000, 'reload applied');
    expect(applied).toMatchObject({ reason: 'SIGHUP', msg: 'reload applied: destinations +edge/b' });
    await c.send('after-reload', gw.udpPort);
    await eventually(() => lines(join(dir, 'out/b.ndjson')).includes('after-reload'), 10_000, 'b got the packet');

    writeFileSync(file, config(0, 0, ['a']).replace('listeners:', 'colour: red\nlisteners:'));
    gw.proc.kill('SIGHUP');
    const refused = await gw.waitForLog((l) => String(l.msg).startsWith('reload refused'), 15_000, 'reload refused');
    expect(refused.problems).toEqual([{ path: '/colour', message: 'unknown key: remove it or check its spelling' }]);
    await c.send('still-both', gw.udpPort);
    await eventually(() => lines(join(dir, 'out/b.ndjson')).includes('still-both') && lines(join(dir, 'out/a.ndjson')).includes('still-both'), 10_000, 'both still receive');
    expect(await gw.stop()).toBe(0);
  }, 60_000);

  it.runIf(hasSystemdNotify && hasPython)('tells systemd READY=1 when serving, RELOADING=1 then READY=1 around a reload, STOPPING=1 at the drain', async () => {
    const dir = tmp();
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, config(0, 0, ['a']));
    const sock = await notifySocket(dir);
    // A slow systemd-notify (as on a loaded machine: it lingers after sending): every message still arrives, in
    // order, and the gateway waits for STOPPING=1 to go out before it exits (it used to be lost in a full test run).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const real = spawnSync('sh', ['-c', 'command -v systemd-notify'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\nsleep 0.2\n${real} "$@"\nstatus=$?\nsleep 0.5\nexit $status\n`, { mode: 0o755 });
    const gw = await startGateway(['start', '--config', file], { env: { ...process.env, NOTIFY_SOCKET: sock.path, PATH: `${bin}:${process.env.PATH}` } });
    const has = (what: string) => (m: string) => m.split('\n').includes(what);
    await eventually(() => sock.messages.some(has('READY=1')), 10_000, 'READY=1');
    expect(sock.messages.find(has('READY=1'))).toContain(`MAINPID=${gw.proc.pid}`);
    writeFileSync(file, config(0, 0, ['a', 'b']));
    gw.proc.kill('SIGHUP');
    await eventually(() => sock.messages.filter(has('READY=1')).length === 2, 10_000, 'READY=1 after the reload');
    const order = sock.messages.filter((m) => m !== 'BARRIER=1').map((m) => m.split('\n').find((a) => /^(READY|RELOADING|STOPPING)=/.test(a)));
    expect(order).toEqual(['READY=1', 'RELOADING=1', 'READY=1']);
    expect(sock.messages.find(has('RELOADING=1'))).toMatch(/MONOTONIC_USEC=\d+/);
    expect(await gw.stop()).toBe(0);
    await eventually(() => sock.messages.some(has('STOPPING=1')), 10_000, 'STOPPING=1');
  }, 60_000);

  // --workers needs SO_REUSEPORT, the native transport's (test/transport/cluster.test.ts).
  it.runIf(process.platform === 'linux' && !!loadNativeAddon().addon && process.env.UDPGW_TRANSPORT !== 'dgram')('with --workers 2, SIGHUP to the primary and POST /v1/reload on any worker reload every worker', async () => {
    const dir = tmp();
    const file = join(dir, 'gw.yaml');
    const port = await freeUdpPort();
    writeFileSync(file, config(port, 0, ['a']));
    const gw = startProcess([...CLI_ARGS, 'start', '--workers', '2', '--config', file]);
    await waitForStderr(gw, /running with 2 workers/, 30_000);
    writeFileSync(file, config(port, 0, ['a', 'b']));
    gw.proc.kill('SIGHUP');
    const combined = await gw.waitForLog((l) => String(l.msg) === 'reload of 2 workers: applied', 20_000, 'the primary\'s summary');
    expect(combined.workers).toEqual([expect.objectContaining({ result: 'applied' }), expect.objectContaining({ result: 'applied' })]);
    // One line from each worker (their stdout and the primary's reach the pipe in any order).
    await eventually(() => gw.logs.filter((l) => l.msg === 'reload applied: destinations +edge/b').length === 2, 10_000, 'a line from each worker');
    // Each worker's line says which process wrote it (pid): two workers, neither the primary.
    const pids = new Set(gw.logs.filter((l) => l.msg === 'reload applied: destinations +edge/b').map((l) => l.pid));
    expect([pids.size, pids.has(gw.proc.pid)]).toEqual([2, false]);

    // The admin API: read its port from a worker's log, then POST; the answer carries both workers.
    const adminUrl = String((await gw.waitForLog((l) => l.msg === 'admin API listening')).url);
    writeFileSync(file, config(port, 0, ['b']));
    const r = await fetch(`${adminUrl}/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer reload-cli-token' } });
    const body = await r.json() as { result: string; changes: { destinations: { removed: string[] } }; workers: { worker: number; result: string }[] };
    expect(r.status).toBe(200);
    expect(body.changes.destinations.removed).toEqual(['edge/a']);
    expect(body.workers.map((w) => w.result)).toEqual(['applied', 'applied']);
    expect(new Set(body.workers.map((w) => w.worker)).size).toBe(2);
    expect(await gw.stop()).toBe(0);
  }, 90_000);
});
