/**
 * The `redis` router against a real Redis: the server on 127.0.0.1:6379 (a key prefix unique to
 * each test, removed afterwards), and a redis-server this file starts on a free port where Redis
 * must go down mid-test. Real UDP backends on 127.0.0.1.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { backend, closeAll, never, packet, proxy, until } from './support.js';

let admin: Redis;
let prefix: string;
const servers: ChildProcess[] = [];

beforeEach(() => {
  admin = new Redis('redis://127.0.0.1:6379', { lazyConnect: false });
  prefix = `udpgw-test:${randomUUID()}`;
});

afterEach(async () => {
  await closeAll();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  admin.disconnect();
  for (const s of servers.splice(0)) {
    if (s.exitCode !== null || s.signalCode !== null) continue;
    s.kill('SIGKILL');
    await once(s, 'exit');
  }
});

const keys = () => ({ backendKey: `${prefix}:backend`, disconnectChannel: `${prefix}:disconnect` });
const client = (port: number, address = '127.0.0.1') => ({ address, port });

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

async function startRedis(port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('Ready to accept connections')) resolve(); });
    child.once('exit', (c) => reject(new Error(`redis-server exited ${c}: ${out}`)));
  });
  return child;
}

describe('redis router', () => {
  it('reads the key once per new client; sessions stay pinned when it changes', async () => {
    const [b1, b2] = [await backend('b1'), await backend('b2')];
    await admin.set(`${prefix}:backend`, b1.label);
    const { d, clients } = await proxy({ router: { type: 'redis', ...keys() } });
    await d.sendBatch([packet('a1', { remote: client(1) })], never);
    await until(() => clients.sent.length === 1);
    await admin.set(`${prefix}:backend`, b2.label);
    await d.sendBatch([packet('a2', { remote: client(1) }), packet('c1', { remote: client(2) })], never);
    await until(() => clients.sent.length === 3);
    expect(b1.seen.map((s) => s.data.toString())).toEqual(['a1', 'a2']);
    expect(b2.seen.map((s) => s.data.toString())).toEqual(['c1']);
    expect(d.status?.()).toMatchObject({ router: { lookups: 2 } });
  });

  it('PUBLISH "ip:port" ends that client\'s session at once; its next datagram is routed afresh', async () => {
    const [b1, b2] = [await backend('b1'), await backend('b2')];
    await admin.set(`${prefix}:backend`, b1.label);
    const { d, clients } = await proxy({ router: { type: 'redis', ...keys() } });
    await d.sendBatch([packet('x', { remote: client(7) }), packet('y', { remote: client(8) })], never);
    await until(() => clients.sent.length === 2);
    await admin.set(`${prefix}:backend`, b2.label);
    expect(await admin.publish(`${prefix}:disconnect`, '127.0.0.1:7')).toBe(1); // one subscriber heard it
    await until(() => d.status?.().sessions === 1);
    expect(d.backendOf('edge', client(7))).toBeUndefined();
    expect(d.backendOf('edge', client(8))).toBe(b1.label);
    await d.sendBatch([packet('x2', { remote: client(7) })], never);
    await until(() => b2.seen.length === 1);
    expect(d.backendOf('edge', client(7))).toBe(b2.label);
  });

  it('PUBLISH "<port>" ends the session whose upstream socket has that local port (the older payload)', async () => {
    const b1 = await backend('b1');
    await admin.set(`${prefix}:backend`, b1.label);
    const { d, clients } = await proxy({ router: { type: 'redis', ...keys() } });
    await d.sendBatch([packet('p', { remote: client(9) }), packet('q', { remote: client(10) })], never);
    await until(() => clients.sent.length === 2);
    const upstreamPortOf9 = b1.seen.find((s) => s.data.toString() === 'p')!.port;
    await admin.publish(`${prefix}:disconnect`, String(upstreamPortOf9));
    await until(() => d.status?.().sessions === 1);
    expect(d.backendOf('edge', client(9))).toBeUndefined();
    expect(d.status?.()).toMatchObject({ router: { disconnects: 1 } });
  });

  it('an IPv4 client on a dual-stack listener (::ffff:a.b.c.d) is matched by its plain a.b.c.d', async () => {
    const b1 = await backend('b1');
    await admin.set(`${prefix}:backend`, b1.label);
    const { d } = await proxy({ router: { type: 'redis', ...keys() } });
    await d.sendBatch([packet('m', { remote: client(11, '::ffff:127.0.0.1') })], never);
    await until(() => b1.seen.length === 1);
    await admin.publish(`${prefix}:disconnect`, '127.0.0.1:11');
    await until(() => d.status?.().sessions === 0);
  });

  it('one subscription per process, whatever the number of destinations and sessions', async () => {
    const b1 = await backend('b1');
    await admin.set(`${prefix}:backend`, b1.label);
    const a = await proxy({ router: { type: 'redis', ...keys() } });
    const b = await proxy({ router: { type: 'redis', ...keys() } });
    await a.d.sendBatch([packet('1', { remote: client(1) }), packet('2', { remote: client(2) })], never);
    await b.d.sendBatch([packet('3', { remote: client(3) })], never);
    await until(() => b1.seen.length === 3);
    expect(await admin.pubsub('NUMSUB', `${prefix}:disconnect`)).toEqual([`${prefix}:disconnect`, 1]);
    expect(a.d.status?.()).toMatchObject({ router: { subscriptions: 1 } });
  });

  it('an empty key and an unreachable Redis (down at start) are counted drops, or go to the fallback pool', async () => {
    const fb = await backend('fallback');
    const down = `redis://127.0.0.1:${await freePort()}`;
    const dropping = await proxy({ router: { type: 'redis', ...keys(), url: down, lookupTimeoutMs: 200 } });
    const r = await dropping.d.sendBatch([packet('lost', { remote: client(1) })], never);
    expect(r.outcomes).toEqual([{ status: 'delivered' }]);
    await until(() => dropping.counted.drops['redis-unavailable'] === 1);
    const falling = await proxy({ router: { type: 'redis', ...keys(), url: down, unavailable: { backends: [fb.label] } } });
    await falling.d.sendBatch([packet('saved', { remote: client(2) })], never);
    await until(() => fb.seen.length === 1);
    const empty = await proxy({ router: { type: 'redis', ...keys() } });
    await empty.d.sendBatch([packet('nokey', { remote: client(3) })], never);
    await until(() => empty.counted.drops['redis-no-backend'] === 1);
  });

  it('Redis down mid-run: new clients go to the fallback, pinned sessions keep going; back up, the key routes again', async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const own = new Redis(`redis://127.0.0.1:${port}`);
    const [b1, b2, fb] = [await backend('b1'), await backend('b2'), await backend('fb')];
    await own.set('k', b1.label);
    const { d, clients } = await proxy({ router: { type: 'redis', url: `redis://127.0.0.1:${port}`, backendKey: 'k', disconnectChannel: 'c',
      reconnect: { minDelayMs: 20, maxDelayMs: 100 }, lookupTimeoutMs: 200, unavailable: { backends: [fb.label] } } });
    await d.sendBatch([packet('before', { remote: client(1) })], never);
    await until(() => clients.sent.length === 1);
    own.disconnect();
    server.kill('SIGKILL');
    await once(server, 'exit');
    await d.sendBatch([packet('during', { remote: client(2) }), packet('pinned', { remote: client(1) })], never);
    await until(() => fb.seen.length === 1 && b1.seen.length === 2);
    server = await startRedis(port);
    const again = new Redis(`redis://127.0.0.1:${port}`);
    await again.set('k', b2.label);
    again.disconnect();
    await until(() => (d.status?.().router as { connection: string }).connection === 'ready');
    await d.sendBatch([packet('after', { remote: client(3) })], never);
    await until(() => b2.seen.length === 1);
    expect(fb.seen.map((s) => s.data.toString())).toEqual(['during']);
  });

  it('uses the configured password, database, key and channel', async () => {
    const port = await freePort();
    await startRedis(port, ['--requirepass', 'sekrit-pw']);
    const own = new Redis(`redis://127.0.0.1:${port}`, { password: 'sekrit-pw', db: 2 });
    const b = await backend('b');
    await own.set('fleet:next', b.label);
    const wrongDb = await proxy({ router: { type: 'redis', url: `redis://127.0.0.1:${port}`, password: 'sekrit-pw', db: 0, backendKey: 'fleet:next', disconnectChannel: 'fleet:bye' } });
    await wrongDb.d.sendBatch([packet('nope', { remote: client(1) })], never);
    await until(() => wrongDb.counted.drops['redis-no-backend'] === 1);
    const { d } = await proxy({ router: { type: 'redis', url: `redis://127.0.0.1:${port}`, password: 'sekrit-pw', db: 2, backendKey: 'fleet:next', disconnectChannel: 'fleet:bye' } });
    await d.sendBatch([packet('yes', { remote: client(2) })], never);
    await until(() => b.seen.length === 1);
    expect(await own.publish('fleet:bye', '127.0.0.1:2')).toBe(2); // both routers' one subscription each (two servers' settings)
    await until(() => d.status?.().sessions === 0);
    own.disconnect();
  });
});
