/**
 * --workers N with cluster.redis: each worker is a cluster node of its own (<host>-w<slot>), and the
 * Redis directory (not the IPC 'seen' messages) makes the egress policy agree across workers; an
 * out-of-band packet that reaches the worker without the flow is forwarded to the one with it.
 * Needs the native transport (SO_REUSEPORT), as the worker prototype does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { startClusterPrimary } from '../../app/cluster.js';
import { UdpClient } from '../support/udp-client.js';
import { deleteUnder, freeTcpPort, freeUdpPort, keysUnder, until } from './support.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const fixture = (name: string) => fileURLToPath(new URL(`../transport/fixtures/${name}`, import.meta.url));
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

describe.runIf(required)('cluster workers', () => {
  it('each worker is a node; pushes through either worker leave from the flow\'s worker', async () => {
    const prefix = `udpgw-test:${randomUUID()}:`;
    const redis = new Redis('redis://127.0.0.1:6379');
    closers.push(async () => { await deleteUnder(redis, prefix); redis.disconnect(); });
    const port = await freeUdpPort(['127.0.0.1']);
    const adminPort = await freeTcpPort();
    const cfg = {
      admin: { enabled: true, host: '127.0.0.1', port: adminPort, token: 'cluster-token' },
      cluster: { redis: 'redis://127.0.0.1:6379', keyPrefix: prefix, flushMs: 100 },
      listeners: [{ name: 'edge', host: '127.0.0.1', port, destinations: [{ name: 'pid', type: 'handler', module: fixture('pid-handler.mjs'), workers: 1 }] }],
    };
    const primary = startClusterPrimary({
      workers: 2, logger: pino({ level: 'silent' }), exec: fixture('cluster-worker.ts'), execArgv: ['--import', 'tsx'], restartDelayMs: 60_000,
      env: { UGW_TEST_CLUSTER_CONFIG: JSON.stringify(cfg) },
    });
    closers.push(() => primary.stop());
    await primary.ready;
    await until(async () => (await keysUnder(redis, `${prefix}node:`)).length === 2, 10_000, 'two worker nodes');
    expect((await keysUnder(redis, `${prefix}node:`)).sort()).toEqual([`${prefix}node:${hostname()}-w0`, `${prefix}node:${hostname()}-w1`]);

    const c = await UdpClient.open();
    closers.push(() => c.close());
    await c.send('hello', port);
    await c.waitFor(1, 10_000);
    const owner = await until(async () => (await redis.get(`${prefix}c:edge:127.0.0.1:${c.port}`)) !== null, 10_000, 'the flow written')
      .then(() => redis.get(`${prefix}c:edge:127.0.0.1:${c.port}`));
    const push = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/v1/send`, {
      method: 'POST', headers: { authorization: 'Bearer cluster-token', 'content-type': 'application/json' },
      body: JSON.stringify({ Messages: [{ Data: 'cHVzaA==', Remote: { Address: '127.0.0.1', Port: c.port } }] }),
    })).json()).messages[0] as { status: string; via?: string };
    // node:cluster hands admin connections to the workers in turn: eight pushes reach both.
    const results = await Promise.all(Array.from({ length: 8 }, push));
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(results.some((r) => r.via === owner)).toBe(true); // the other worker forwarded to the owner
    await c.waitFor(9, 5000);
    expect(c.received.slice(1).every((r) => r.data.toString() === 'push' && r.port === port)).toBe(true);
  }, 60_000);
});
