/**
 * Redis goes down mid-test (a redis-server this file starts on a free port, killed, then started
 * again on the same port, empty): two nodes keep serving their own clients, refuse what their
 * policy refuses, log the transition once each way, bound what they queue, and recover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { UdpClient } from '../support/udp-client.js';
import { stopAll } from '../support/cli.js';
import { freeTcpPort, freeUdpPort, metric, send, startNode, startRedis, stopProcess, until, type Node } from './support.js';

const HOSTS = ['127.0.0.2', '127.0.0.3'];
const prefix = 'udpgw-down-test:';
const dir = mkdtempSync(join(tmpdir(), 'udpgw-cluster-down-'));
let redisPort = 0;
let server: ChildProcess | undefined;
let redis: Redis;
let nodes: Node[] = [];
const clients: UdpClient[] = [];
let port = 0;

beforeAll(async () => {
  redisPort = await freeTcpPort();
  server = await startRedis(redisPort);
  redis = new Redis(`redis://127.0.0.1:${redisPort}`, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => {});
  port = await freeUdpPort(HOSTS);
  const url = `redis://127.0.0.1:${redisPort}`;
  nodes = await Promise.all(HOSTS.map((host, i) => startNode({ host, port, redis: url, prefix, nodeId: `d${i + 1}`, dir, cluster: { maxPendingWrites: 2 } })));
  for (let i = 0; i < 4; i++) clients.push(await UdpClient.open('127.0.0.1'));
}, 60_000);

afterAll(async () => {
  stopAll();
  await Promise.all(clients.map((c) => c.close()));
  redis?.disconnect();
  if (server) await stopProcess(server);
});

const oob = (c: UdpClient, data: string) => ({ Messages: [{ Data: Buffer.from(data).toString('base64'), Remote: { Address: '127.0.0.1', Port: c.port } }] });
const lines = (node: string) => { const f = join(dir, `${node}.ndjson`); return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0; };
const logCount = (n: Node, msg: string) => n.run.logs.filter((l) => l.msg === msg).length;
const DOWN = 'cluster: Redis unreachable; serving local clients only (reconnecting with backoff)';
const UP = 'cluster: Redis reachable again; ownership and forwarding resumed';

describe('cluster: Redis down and back', () => {
  it('keeps serving local traffic, refuses what its policy refuses, and recovers', async () => {
    const [c0] = clients as [UdpClient];
    await c0.send('before', port, HOSTS[0]);
    await until(async () => (await redis.get(`${prefix}c:edge:127.0.0.1:${c0.port}`)) === 'd1', 10_000, 'd1 owns c0');

    await stopProcess(server!);
    server = undefined;
    for (const n of nodes) await until(async () => (await metric(n, 'udpgw_cluster_redis_up')) === 0, 10_000, `${n.nodeId} sees Redis down`);
    expect(await metric(nodes[0]!, 'udpgw_cluster_errors_total', 'reason="redis-down"')).toBe(1);

    // Local traffic: received and archived; an out-of-band packet from the owner itself still leaves.
    await c0.send('during', port, HOSTS[0]);
    await until(() => lines('d1') === 2, 10_000, 'd1 archived the packet sent while Redis is down');
    const local = await send(nodes[0]!, oob(c0, 'local-while-down'));
    expect(local.json.messages).toEqual([{ status: 'sent' }]);
    const got = (await c0.waitFor(1))[0]!;
    expect([got.data.toString(), got.address, got.port]).toEqual(['local-while-down', HOSTS[0], port]);

    // The other node cannot ask who owns c0: its own policy decides, and it never saw c0.
    const remote = await send(nodes[1]!, oob(c0, 'refused-while-down'));
    expect(remote.json.messages).toEqual([{ status: 'refused', reason: 'address-refused' }]);
    expect(await metric(nodes[1]!, 'udpgw_cluster_forward_total', 'outcome="redis-unavailable"')).toBe(1);

    // Writes wait in a bounded queue (maxPendingWrites: 2): the third new client is counted, not queued.
    for (const c of clients.slice(1)) await c.send('new', port, HOSTS[0]);
    await until(() => lines('d1') === 5, 10_000, 'd1 archived three more');
    expect(await metric(nodes[0]!, 'udpgw_cluster_errors_total', 'reason="pending-overflow"')).toBe(1);
    const status = await (await fetch(`${nodes[0]!.adminUrl}/v1/status`)).json() as { cluster: { directory: { pending: number } } };
    expect(status.cluster.directory.pending).toBe(2);
    for (const n of nodes) expect(logCount(n, DOWN)).toBe(1);

    // Redis back, empty: the nodes reconnect, d1 writes its flows again, forwarding resumes.
    server = await startRedis(redisPort);
    for (const n of nodes) await until(async () => (await metric(n, 'udpgw_cluster_redis_up')) === 1, 20_000, `${n.nodeId} reconnected`);
    await until(async () => (await redis.get(`${prefix}c:edge:127.0.0.1:${c0.port}`).catch(() => null)) === 'd1', 10_000, 'd1 owns c0 again');
    const after = await send(nodes[1]!, oob(c0, 'forwarded-after'));
    expect(after.json.messages).toEqual([{ status: 'sent', via: 'd1' }]);
    const back = (await c0.waitFor(2))[1]!;
    expect([back.data.toString(), back.address, back.port]).toEqual(['forwarded-after', HOSTS[0], port]);
    for (const n of nodes) { expect(logCount(n, UP)).toBe(1); expect(logCount(n, DOWN)).toBe(1); }
    expect(c0.received.map((r) => r.data.toString())).toEqual(['local-while-down', 'forwarded-after']);
  }, 60_000);

  it('a node started while Redis is unreachable serves alone, says so once, and joins when Redis appears', async () => {
    const late = await freeTcpPort();
    const alone = await startNode({ host: '127.0.0.4', port, redis: `redis://127.0.0.1:${late}`, prefix, nodeId: 'late', dir });
    expect((await fetch(`${alone.adminUrl}/readyz`)).status).toBe(200);
    expect(await metric(alone, 'udpgw_cluster_redis_up')).toBe(0);
    expect(await metric(alone, 'udpgw_cluster_errors_total', 'reason="redis-down"')).toBe(1);
    expect(alone.run.logs.filter((l) => l.msg === 'cluster: Redis unreachable at start; serving local clients only (reconnecting with backoff)')).toHaveLength(1);
    const c = clients[1]!;
    await c.send('to-late', port, '127.0.0.4');
    await until(() => lines('late') === 1, 10_000, 'served while Redis is absent');
    expect((await send(alone, oob(c, 'local'))).json.messages).toEqual([{ status: 'sent' }]);
    const own = await startRedis(late);
    try {
      await until(async () => (await metric(alone, 'udpgw_cluster_redis_up')) === 1, 20_000, 'joined');
      const r = new Redis(`redis://127.0.0.1:${late}`);
      try {
        await until(async () => (await r.get(`${prefix}c:edge:127.0.0.1:${c.port}`)) === 'late', 10_000, 'its flow written once Redis is there');
      } finally { r.disconnect(); }
    } finally { await stopProcess(own); }
  }, 60_000);
});
