/**
 * Three gateway processes on 127.0.0.2, .3 and .4 with the same UDP port, the local Redis on
 * 127.0.0.1:6379 (a key prefix unique to the test, removed afterwards). A client talks to the first
 * node; what is submitted to the third reaches it from the first node's address and port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { UdpClient } from '../support/udp-client.js';
import { encodeClusterMessage } from '../../gateway/cluster/bus.js';
import { stopAll } from '../support/cli.js';
import { TOKEN, deleteUnder, freeUdpPort, keysUnder, metric, send, startNode, until, type Node } from './support.js';

const REDIS = 'redis://127.0.0.1:6379';
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const prefix = `udpgw-test:${randomUUID()}:`;
const dir = mkdtempSync(join(tmpdir(), 'udpgw-cluster-'));
let redis: Redis;
let nodes: Node[] = [];
let client: UdpClient;
let backend: UdpClient;
let port = 0;

beforeAll(async () => {
  redis = new Redis(REDIS);
  port = await freeUdpPort(HOSTS);
  backend = await UdpClient.open('127.0.0.1');
  nodes = await Promise.all(HOSTS.map((host, i) => startNode({ host, port, redis: REDIS, prefix, nodeId: `n${i + 1}`, dir, backend: backend.port })));
  client = await UdpClient.open('127.0.0.1');
}, 60_000);

afterAll(async () => {
  stopAll();
  await client?.close();
  await backend?.close();
  await deleteUnder(redis, prefix);
  redis.disconnect();
});

const oob = (data: string) => ({ Messages: [{ Data: Buffer.from(data).toString('base64'), Remote: { Address: '127.0.0.1', Port: client.port } }] });
const ownerKey = () => `${prefix}c:edge:127.0.0.1:${client.port}`;

describe('cluster: three nodes, one Redis', () => {
  it('every node advertises its liveness', async () => {
    await until(async () => (await keysUnder(redis, `${prefix}node:`)).length === 3, 10_000, 'three node keys');
    expect((await keysUnder(redis, `${prefix}node:`)).sort()).toEqual([`${prefix}node:n1`, `${prefix}node:n2`, `${prefix}node:n3`]);
    expect(await redis.pttl(`${prefix}node:n1`)).toBeGreaterThan(0); // expires when the node stops refreshing it
  });

  it('an out-of-band packet submitted to the third node reaches the client from the first node\'s address and port', async () => {
    await client.send('hello', port, HOSTS[0]);
    await until(async () => (await redis.get(ownerKey())) === 'n1', 10_000, 'n1 owns the flow in Redis');
    const ttl = await redis.pttl(ownerKey());
    expect(ttl).toBeGreaterThan(3_500_000); // the egress window (3600 s), not forever
    expect(ttl).toBeLessThanOrEqual(3_600_000);

    const r = await send(nodes[2]!, oob('push-from-n3'));
    expect(r.status).toBe(200);
    expect(r.json.messages).toEqual([{ status: 'sent', via: 'n1' }]);
    const [got] = await client.waitFor(1);
    expect(got!.data.toString()).toBe('push-from-n3');
    expect({ address: got!.address, port: got!.port }).toEqual({ address: HOSTS[0], port });
    expect(await metric(nodes[2]!, 'udpgw_cluster_forward_total', 'outcome="forwarded"')).toBe(1);
    expect(await metric(nodes[0]!, 'udpgw_cluster_forward_total', 'outcome="received-sent"')).toBe(1);
    expect(await metric(nodes[0]!, 'udpgw_packets_sent_total', 'listener="edge",path="out_of_band"')).toBe(1);
    expect(await metric(nodes[2]!, 'udpgw_packets_sent_total', 'listener="edge",path="out_of_band"')).toBe(0);
  });

  it('an async reply by tag submitted to the third node leaves from the first node too', async () => {
    const file = join(dir, 'n1.ndjson');
    await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('"Tag"'), 10_000, 'the tag archived on n1');
    const tag = (JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as { Tag: string }).Tag;
    const r = await send(nodes[2]!, { Replies: [{ Tag: tag, Data: Buffer.from('reply-from-n3').toString('base64') }] });
    expect(r.json.replies).toEqual([{ status: 'sent', via: 'n1' }]);
    const got = (await client.waitFor(2))[1]!;
    expect([got.data.toString(), got.address, got.port]).toEqual(['reply-from-n3', HOSTS[0], port]);
    expect(await metric(nodes[0]!, 'udpgw_packets_sent_total', 'listener="edge",path="async_reply"')).toBe(1);
  });

  it('a document\'s packets for one owner travel in one PUBLISH, each sent', async () => {
    const published = async () => ((await (await fetch(`${nodes[2]!.adminUrl}/v1/status`)).json()) as { cluster: { bus: { published: number } } }).cluster.bus.published;
    const before = await published();
    const doc = { Messages: ['p1', 'p2', 'p3'].map((d) => ({ Data: Buffer.from(d).toString('base64'), Remote: { Address: '127.0.0.1', Port: client.port } })) };
    expect((await send(nodes[2]!, doc)).json.messages).toEqual([1, 2, 3].map(() => ({ status: 'sent', via: 'n1' })));
    const got = (await client.waitFor(5)).slice(2);
    expect(got.map((g) => [g.data.toString(), g.address, g.port])).toEqual(['p1', 'p2', 'p3'].map((d) => [d, HOSTS[0], port]));
    expect(await published()).toBe(before + 1);
  });

  it('a client no node has seen is refused by the egress policy, counted', async () => {
    const r = await send(nodes[1]!, { Messages: [{ Data: 'eA==', Remote: { Address: '127.0.0.1', Port: 9 } }] });
    expect(r.json.messages).toEqual([{ status: 'refused', reason: 'address-refused' }]);
    expect(await metric(nodes[1]!, 'udpgw_cluster_forward_total', 'outcome="no-owner"')).toBe(1);
    expect(await metric(nodes[1]!, 'udpgw_egress_refused_total', 'path="out_of_band",reason="address-refused"')).toBe(1);
  });

  it('a node that receives a forward checks its own egress policy: a client it never saw is refused', async () => {
    const stranger = await UdpClient.open('127.0.0.1');
    try {
      const m = encodeClusterMessage({ kind: 'oob', from: 'intruder', listener: 'edge', address: '127.0.0.1', port: stranger.port, data: Buffer.from('x') });
      expect(await redis.publish(`${prefix}fwd:n2`, m)).toBe(1);
      await until(async () => (await metric(nodes[1]!, 'udpgw_cluster_forward_total', 'outcome="received-refused"')) === 1, 10_000, 'n2 refused it');
      expect(await metric(nodes[1]!, 'udpgw_egress_refused_total', 'path="out_of_band",reason="address-refused"')).toBe(2);
      expect(stranger.received).toEqual([]);
    } finally { await stranger.close(); }
  });

  it('ending a session on the third node ends it on the first, which holds it', async () => {
    const sessions = async (n: Node) => ((await (await fetch(`${n.adminUrl}/v1/sessions`)).json()) as { sessions: unknown[] }).sessions.length;
    await until(async () => (await sessions(nodes[0]!)) === 1, 10_000, 'n1 holds the client\'s proxy session');
    const r = await fetch(`${nodes[2]!.adminUrl}/v1/sessions/end`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ client: `127.0.0.1:${client.port}` }) });
    expect(await r.json()).toEqual({ ended: 0, otherNodes: 2 });
    await until(async () => (await sessions(nodes[0]!)) === 0, 10_000, 'n1 ended the session');
    expect(await metric(nodes[0]!, 'udpgw_destination_events_total', 'destination="edge/proxy",event="ended-by-control"')).toBe(1);
  });

  it('the owner killed: the outcome is counted, the other nodes carry on', async () => {
    const before = client.received.length;
    nodes[0]!.run.proc.kill('SIGKILL');
    await until(async () => (await send(nodes[2]!, oob('after-kill'))).json.messages[0]?.reason === 'owner-unreachable', 10_000, 'owner-unreachable');
    expect(await metric(nodes[2]!, 'udpgw_cluster_forward_total', 'outcome="owner-unreachable"')).toBeGreaterThanOrEqual(1);
    expect(await metric(nodes[2]!, 'udpgw_egress_refused_total', 'path="cluster",reason="owner-unreachable"')).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${nodes[1]!.adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${nodes[2]!.adminUrl}/healthz`)).status).toBe(200);
    expect(client.received.length).toBe(before); // nothing sent from another node's socket instead
    // Its liveness key expires (3 heartbeats); its flows' entries expire with the egress window.
    await until(async () => (await redis.exists(`${prefix}node:n1`)) === 0, 10_000, 'n1 liveness expired');
  });
});
