/**
 * Prototype multi-worker gateway (gateway/cluster.ts): two node:cluster workers bind the same
 * listener port with SO_REUSEPORT; clients are spread over them and every reply leaves from the
 * shared port. Needs the native transport (see native.test.ts for the policy).
 */
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { resolveConfig } from '../../app/config/load.js';
import { runClusterWorker, startClusterPrimary, withReusePort, type ClusterPrimary } from '../../app/cluster.js';
import { dgramTransport } from '../../net/dgram.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { createServer } from 'node:net';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const silent = pino({ level: 'silent' });
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(port: number) {
  return {
    admin: { enabled: false },
    listeners: [{ name: 'edge', host: '127.0.0.1', port, destinations: [{ name: 'pid', type: 'handler', module: fixture('pid-handler.mjs'), workers: 1 }] }],
  };
}

describe('cluster prototype', () => {
  it('withReusePort sets reusePort on every bind and keeps the kind', async () => {
    const seen: boolean[] = [];
    const wrapped = withReusePort({ kind: 'probe', bind: async (opts) => { seen.push(opts.reusePort === true); throw new Error('probe'); } });
    await expect(wrapped.bind({ host: '127.0.0.1', port: 1, maxDatagramBytes: 10 }, () => {}, () => {})).rejects.toThrow('probe');
    expect(seen).toEqual([true]);
    expect(wrapped.kind).toBe('probe');
  });

  it('a worker refuses port 0 listeners and a transport without SO_REUSEPORT', async () => {
    await expect(runClusterWorker(resolveConfig(config(0), process.cwd()), { logger: silent, transport: dgramTransport, signals: false }))
      .rejects.toThrow(/fixed listener ports/);
    await expect(runClusterWorker(resolveConfig(config(await freePort()), process.cwd()), { logger: silent, transport: dgramTransport, signals: false }))
      .rejects.toThrow(/SO_REUSEPORT/);
  });

  // Registered everywhere, skipped (and reported as skipped) where the addon is not required.

  it.skipIf(!required)('two workers share the listener port, clients are spread over both, replies leave from it', async () => {
    const port = await freePort();
    const primary: ClusterPrimary = startClusterPrimary({
      workers: 2, logger: silent, exec: fixture('cluster-worker.ts'), execArgv: ['--import', 'tsx'], restartDelayMs: 60_000,
      env: { UGW_TEST_CLUSTER_CONFIG: JSON.stringify(config(port)) },
    });
    closers.push(() => primary.stop());
    await primary.ready;
    const pids = new Set(primary.workers().map((w) => String(w.process.pid)));
    expect(pids.size).toBe(2);

    const replies: string[] = [];
    for (let i = 0; i < 32; i++) {
      const c = await UdpClient.open();
      closers.push(() => c.close());
      await c.send(`hello-${i}`, port);
      const [r] = await c.waitFor(1, 10_000);
      expect(r?.port).toBe(port);
      replies.push(r!.data.toString());
    }
    // Each client's 4-tuple hashes to one worker: with 32 clients both answer (one-sided: p = 2^-31).
    expect(new Set(replies)).toEqual(pids);
    await primary.stop();
    expect(primary.workers()).toEqual([]);
  }, 60_000);

  it.skipIf(!required)('a client seen by one worker may receive out-of-band packets sent through any worker', async () => {
    const port = await freePort();
    const adminPort = await new Promise<number>((r) => { const srv = createServer().listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => r(p)); }); });
    const cfg = { ...config(port), admin: { enabled: true, host: '127.0.0.1', port: adminPort, token: 'cluster-token' } };
    const primary = startClusterPrimary({
      workers: 2, logger: silent, exec: fixture('cluster-worker.ts'), execArgv: ['--import', 'tsx'], restartDelayMs: 60_000,
      env: { UGW_TEST_CLUSTER_CONFIG: JSON.stringify(cfg) },
    });
    closers.push(() => primary.stop());
    await primary.ready;
    const c = await UdpClient.open();
    closers.push(() => c.close());
    await c.send('hello', port);
    await c.waitFor(1, 10_000); // seen by the one worker its flow hashes to
    const push = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/v1/send`, {
      method: 'POST', headers: { authorization: 'Bearer cluster-token', 'content-type': 'application/json' },
      body: JSON.stringify({ Messages: [{ Data: 'cHVzaA==', Remote: { Address: '127.0.0.1', Port: c.port } }] }),
    })).json()).messages[0].status as string;
    // node:cluster hands admin connections to the workers in turn: eight pushes reach both.
    await eventually(async () => (await Promise.all(Array.from({ length: 8 }, push))).every((s) => s === 'sent'), 5000, 'every worker to accept the push');
    await c.waitFor(9, 5000);
    expect(c.received.slice(1).every((r) => r.data.toString() === 'push' && r.port === port)).toBe(true);
  }, 60_000);
});
