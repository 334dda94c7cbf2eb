/**
 * `--preset udp-gate`: the Go proxy's environment (and .env, the environment winning) as a config.
 * The mapping on values, then the CLI as its users run it: a real process with a .env, the Redis
 * on 127.0.0.1:6379 (keys unique to the test, removed after), a real client and backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { udpGatePreset } from '../../app/presets/udp-gate.js';
import { resolveConfig } from '../../app/config/load.js';
import { UdpClient } from '../support/udp-client.js';
import { backend, closeAll } from '../routers/support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const procs: ChildProcess[] = [];
afterEach(async () => { procs.splice(0).forEach((p) => p.exitCode === null && p.kill('SIGKILL')); await closeAll(); });

describe('udp-gate preset', () => {
  it('maps the proxy\'s variables, with its defaults', () => {
    const d = udpGatePreset({});
    expect(d.workers).toBe(1);
    const cfg = resolveConfig(d.config, '/');
    const l = cfg.listeners[0]!;
    expect([l.host, l.port]).toEqual(['0.0.0.0', 19132]);
    expect(l.destinations[0]).toMatchObject({ type: 'udp', queue: { maxPackets: 4096 }, options: { idleTimeoutMs: 60_000,
      router: { type: 'redis', url: 'redis://127.0.0.1:6379', db: 0, backendKey: 'udp_gate:backend', disconnectChannel: 'udp_gate:disconnect', unavailable: 'drop' } } });
    const set = udpGatePreset({ PROXY_ADDR: ':7000', REDIS_ADDR: 'redis.internal:6380', REDIS_PASSWORD: 'pw', REDIS_DB: '3', REDIS_BACKEND_KEY: 'k',
      REDIS_DISCONNECT_CHANNEL: 'c', SESSION_IDLE_TIMEOUT_SECS: '5', QUEUE_SIZE: '100', WORKER_COUNT: '1' });
    expect(resolveConfig(set.config, '/').listeners[0]).toMatchObject({ host: '0.0.0.0', port: 7000, destinations: [{ queue: { maxPackets: 100 },
      options: { idleTimeoutMs: 5000, router: { url: 'redis://redis.internal:6380', password: 'pw', db: 3, backendKey: 'k', disconnectChannel: 'c' } } }] });
  });

  it('names a bad variable and what it must be', () => {
    expect(() => udpGatePreset({ REDIS_DB: 'x', PROXY_ADDR: 'nowhere' })).toThrow(/env PROXY_ADDR: must be host:port[\s\S]*env REDIS_DB: must be a whole number/);
  });

  it('the CLI reads .env, the environment winning, and proxies to the backend the Redis key names', async () => {
    const b = await backend('bedrock');
    const prefix = `udpgw-preset:${randomUUID()}`;
    const admin = new Redis('redis://127.0.0.1:6379');
    try {
      await admin.set(`${prefix}:backend`, b.label);
      const dir = mkdtempSync(join(tmpdir(), 'udpgw-preset-'));
      writeFileSync(join(dir, '.env'), `PROXY_ADDR=not-an-address\nREDIS_BACKEND_KEY=${prefix}:backend\nREDIS_DISCONNECT_CHANNEL="${prefix}:disconnect"\n`);
      const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
      const proc = spawn(process.execPath, ['--import', tsx, join(ROOT, 'app/cli.ts'), 'start', '--preset', 'udp-gate'], {
        cwd: dir, env: { ...process.env, PROXY_ADDR: '127.0.0.1:0', UDPGW_ADMIN_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      procs.push(proc);
      const port = await new Promise<number>((res, rej) => {
        let buf = '';
        proc.stdout!.on('data', (d: Buffer) => { buf += d.toString(); const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(buf) ?? /"port":(\d+)[^\n]*"msg":"listening"/.exec(buf); if (m) res(Number(m[1])); });
        proc.once('exit', (c) => rej(new Error(`exited ${c}: ${buf}`)));
      });
      const c = await UdpClient.open();
      try {
        await c.send('ping', port);
        const [r] = await c.waitFor(1);
        expect(r!.data.toString()).toBe('bedrock:ping');
      } finally { await c.close(); }
    } finally {
      await admin.del(`${prefix}:backend`);
      admin.disconnect();
    }
  });
});
