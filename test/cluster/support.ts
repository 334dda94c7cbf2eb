/**
 * Cluster tests: real gateway processes (the CLI from source) on 127.0.0.x sharing one UDP port,
 * real Redis (the local server on 127.0.0.1:6379 with a key prefix unique to the test, or a
 * redis-server started here on a free port), real UDP clients on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startGateway } from '../support/cli.js';

export const TOKEN = 'cluster-test-token';
export const SECRET = 'cluster-test-secret-0123456789';

/** A UDP port free on every one of these addresses (they all bind it). */
export async function freeUdpPort(hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, hosts[0], () => r()));
    const port = s.address().port;
    s.close();
    let free = true;
    for (const h of hosts.slice(1)) {
      const t = createSocket('udp4');
      free = await new Promise<boolean>((r) => { t.once('error', () => r(false)); t.bind(port, h, () => r(true)); });
      try { t.close(); } catch { /* never bound */ }
      if (!free) break;
    }
    if (free) return port;
  }
  throw new Error('no UDP port free on all hosts');
}

export async function freeTcpPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

export interface Node { host: string; adminUrl: string; nodeId: string; run: Awaited<ReturnType<typeof startGateway>> }

/** One gateway node: listener `edge` on host:port, a file destination (tags to read), admin on a free port. */
export async function startNode(opts: { host: string; port: number; redis: string; prefix: string; nodeId: string; dir?: string; policy?: 'address' | 'address-port'; cluster?: Record<string, unknown>; backend?: number }): Promise<Node> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'udpgw-cluster-'));
  const cfg = join(dir, `${opts.nodeId}.yaml`);
  writeFileSync(cfg, JSON.stringify({
    secret: SECRET, admin: { port: 0, token: TOKEN }, log: { level: 'info' },
    egress: { policy: opts.policy ?? 'address' },
    cluster: { redis: opts.redis, nodeId: opts.nodeId, keyPrefix: opts.prefix, flushMs: 100, heartbeatMs: 500, ...opts.cluster },
    listeners: [{ name: 'edge', host: opts.host, port: opts.port, destinations: [
      { type: 'file', path: `${opts.nodeId}.ndjson`, batch: { maxPackets: 1, lingerMs: 1 } },
      ...(opts.backend ? [{ type: 'udp', name: 'proxy', backends: [`127.0.0.1:${opts.backend}`] }] : []),
    ] }],
  }));
  const run = await startGateway(['start', '--config', cfg], { env: { ...process.env, UDPGW_TRANSPORT: 'dgram' } });
  return { host: opts.host, adminUrl: run.adminUrl!, nodeId: opts.nodeId, run };
}

export async function send(node: Node, body: unknown): Promise<{ status: number; json: { messages: { status: string; reason?: string; via?: string }[]; replies: { status: string; reason?: string; via?: string }[] } }> {
  const r = await fetch(`${node.adminUrl}/v1/send`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() as never };
}

/** The value of one metric sample on a node (0 when absent). */
export async function metric(node: Node, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Polls `cond` until true, at most `ms` (never a fixed sleep as proof). */
export async function until(cond: () => Promise<boolean> | boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000; i++) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: not within 10000 polls`);
}

/** Every key under the prefix, by SCAN (bounded). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  for (let i = 0; i < 10_000; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return out;
}

export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  if (keys.length) await redis.del(...keys);
}

export async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('Ready to accept connections')) resolve(); });
    child.once('exit', (c) => reject(new Error(`redis-server exited ${c}: ${out}`)));
  });
  return child;
}

export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill(signal);
  await once(p, 'exit');
}
