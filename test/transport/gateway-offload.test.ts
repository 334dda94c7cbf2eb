/**
 * Flow offload under the whole gateway (native transport, udp destination): an open session's
 * datagrams are forwarded both ways by the addon, and everything a user can observe — what the
 * client and backend get, /metrics, the sessions list, idle expiry, ending a session, a reload — is
 * the same as with `flowOffload: false`. And the JS path's proxy replies, batched per pass (a burst
 * from the backend: whole, in order, counted). Real sockets on 127.0.0.1.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { stringify } from 'yaml';
import '../../app/builtin-kinds.js';
import { loadConfig } from '../../app/config/load.js';
import { runGateway, type RunningGateway } from '../../app/run.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport } from '../../net/native.js';
import { UdpClient, eventually, sleep } from '../support/udp-client.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram' && !!loadNativeAddon().addon
  && process.env.UDPGW_FLOW_OFFLOAD !== 'off';
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

interface Backend { socket: Socket; port: number; got: string[] }
async function echoBackend(tag = 'b'): Promise<Backend> {
  const socket = createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (m, r) => { got.push(m.toString()); socket.send(`${tag}:${m.toString()}`, r.port, r.address); });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  closers.push(() => { try { socket.close(); } catch { /* closed */ } });
  return { socket, port: socket.address().port, got };
}

interface Running { running: RunningGateway; write(cfg: Record<string, unknown>): void }
async function start(cfg: Record<string, unknown>): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-offload-'));
  const file = join(dir, 'gw.yaml');
  const write = (c: Record<string, unknown>) => writeFileSync(file, stringify({ secret: 'offload-secret-0123456789', admin: { port: 0 }, shutdownDeadlineMs: 2000, ...c }));
  write(cfg);
  const load = () => loadConfig({ file, env: {} });
  const running = await runGateway(load(), { logger: pino({ level: 'silent' }), transport: nativeTransport, reloadConfig: load });
  closers.push(() => running.stop());
  return { running, write };
}

const udpDest = (port: number, extra: Record<string, unknown> = {}) => ({ name: 'proxy', type: 'udp', backends: [`127.0.0.1:${port}`], ...extra });
const listener = (destinations: unknown[], extra: Record<string, unknown> = {}) => ({ listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations, ...extra }] });

async function client(): Promise<UdpClient> {
  const c = await UdpClient.open();
  closers.push(() => c.close());
  return c;
}

async function metricsText(r: RunningGateway): Promise<string> {
  return (await fetch(`${r.adminUrl}/metrics`)).text();
}
function metric(text: string, line: string): number {
  const m = text.split('\n').find((l) => l.startsWith(`${line} `));
  return m ? Number(m.slice(line.length + 1)) : 0;
}
const COUNTERS = [
  'udpgw_packets_received_total{listener="edge"}', 'udpgw_bytes_received_total{listener="edge"}',
  'udpgw_packets_sent_total{listener="edge",path="proxy"}', 'udpgw_bytes_sent_total{listener="edge",path="proxy"}',
  'udpgw_destination_delivered_total{destination="edge/proxy"}',
];

interface UdpStatus { sessions: number; offloaded: number; created: number; expired: number; repliesRelayed: number }
const udpStatus = (r: RunningGateway): UdpStatus => {
  const runner = r.gateway.runners.find((x) => x.destination.name === 'proxy')!;
  return runner.destination.status!() as unknown as UdpStatus;
};
const listenerOffload = (r: RunningGateway) => (r.gateway.status().listeners as { offload?: { flows: number; packetsIn: number; packetsOut: number } }[])[0]!.offload;

/** Sends `n` datagrams one at a time, each answered before the next (so each is read by itself). */
async function pingPong(c: UdpClient, port: number, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await c.send(`m${i}`, port);
    await c.waitFor(i + 1);
  }
}

/** A backend that answers every datagram with `n` replies at once (a burst, read by the gateway in one batch). */
async function burstBackend(n: number): Promise<Backend> {
  const b = await echoBackend();
  b.socket.removeAllListeners('message');
  b.socket.on('message', (m, r) => {
    b.got.push(m.toString());
    for (let i = 0; i < n; i++) b.socket.send(`${m.toString()}:${i}`.padEnd(10 + i, '.'), r.port, r.address);
  });
  return b;
}

describe.skipIf(!loadNativeAddon().addon)('gateway: proxy replies through JS', () => {
  it('a burst of replies from the backend reaches the client whole and in order, counted packet by packet', async () => {
    const backend = await burstBackend(40);
    const { running } = await start(listener([udpDest(backend.port, { flowOffload: false })]));
    const c = await client();
    const port = running.gateway.address().port;
    await c.send('q', port);
    const got = await c.waitFor(40);
    const want = Array.from({ length: 40 }, (_, i) => `q:${i}`.padEnd(10 + i, '.'));
    expect(got.map((r) => r.data.toString())).toEqual(want);
    const text = await metricsText(running);
    expect([metric(text, COUNTERS[2]!), metric(text, COUNTERS[3]!)]).toEqual([40, want.join('').length]);
    expect(udpStatus(running).repliesRelayed).toBe(40);
  });
});

describe.skipIf(!required)('gateway: flow offload of udp proxy sessions', () => {
  it('an open session is forwarded by the addon; client, backend, /metrics and the sessions list see the same as without it', async () => {
    const seen: Record<string, unknown>[] = [];
    for (const flowOffload of [true, false]) {
      const backend = await echoBackend();
      const { running } = await start(listener([udpDest(backend.port, { flowOffload })]));
      const c = await client();
      const port = running.gateway.address().port;
      await pingPong(c, port, 0, 20);
      await c.send('x'.repeat(300), port);
      await c.waitFor(21);
      const text = await metricsText(running);
      const sessions = await (await fetch(`${running.adminUrl}/v1/sessions`)).json() as { sessions: { packetsIn: number; packetsOut: number }[] };
      seen.push({
        client: c.received.map((r) => r.data.toString()), backend: [...backend.got],
        counters: COUNTERS.map((k) => metric(text, k)),
        sessions: sessions.sessions.map((s) => [s.packetsIn, s.packetsOut]),
        replies: udpStatus(running).repliesRelayed,
      });
      const offload = listenerOffload(running);
      if (flowOffload) {
        // The first datagram opened the session (JS); the offload was asked for on the second, which
        // JS relayed; from the third on the addon forwarded them, and every reply but the first.
        expect(offload).toMatchObject({ flows: 1, packetsIn: 19, packetsOut: 20 });
        expect(udpStatus(running).offloaded).toBe(1);
      } else {
        expect(offload).toBeUndefined();
        expect(udpStatus(running).offloaded).toBe(0);
      }
      await running.stop();
    }
    expect(seen[0]).toEqual(seen[1]);
    // In: m0..m9 (2 bytes), m10..m19 (3), 300; out: each with "b:" before it.
    expect(seen[0]!.counters).toEqual([21, 20 + 30 + 300, 21, 40 + 50 + 302, 21]);
    expect(seen[0]!.sessions).toEqual([[21, 21]]);
    expect(seen[0]!.replies).toBe(21);
  });

  it('no offload where the listener looks at every packet: two destinations, a rate limit, sampling', async () => {
    const a = await echoBackend('a'), b = await echoBackend('b');
    const cases = [
      listener([udpDest(a.port), { name: 'other', type: 'udp', backends: [`127.0.0.1:${b.port}`], replies: false }]),
      listener([udpDest(a.port)], { rateLimit: { packetsPerSecond: 1000 } }),
      listener([udpDest(a.port, { sample: { every: 2 } })]),
    ];
    for (const [i, cfg] of cases.entries()) {
      const { running } = await start(cfg);
      const c = await client();
      const port = running.gateway.address().port;
      if (i < 2) await pingPong(c, port, 0, 5);
      else {
        for (let n = 0; n < 12; n++) { await c.send(`s${n}`, port); await sleep(5); }
        await c.waitFor(6);
        await sleep(50);
        expect(c.received.map((r) => r.data.toString())).toEqual(['a:s1', 'a:s3', 'a:s5', 'a:s7', 'a:s9', 'a:s11']); // every second one, still
      }
      expect([i, listenerOffload(running)]).toEqual([i, undefined]);
      await running.stop();
    }
    expect(b.got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']); // the second destination saw every packet
  });

  it('an offloaded session that keeps talking is not expired; once quiet it is, and the next datagram opens a new one', async () => {
    const backend = await echoBackend();
    const { running } = await start(listener([udpDest(backend.port, { idleTimeoutMs: 300 })]));
    const c = await client();
    const port = running.gateway.address().port;
    await pingPong(c, port, 0, 3);
    expect(udpStatus(running).offloaded).toBe(1);
    // 900 ms of traffic, three idle timeouts, all through the addon.
    for (let i = 3; i < 21; i++) { await c.send(`m${i}`, port); await sleep(50); }
    await c.waitFor(21);
    expect(udpStatus(running)).toMatchObject({ sessions: 1, created: 1, expired: 0 });
    await eventually(() => udpStatus(running).expired === 1, 3000, 'the quiet session expires');
    expect(listenerOffload(running)!.flows).toBe(0);
    await c.send('again', port);
    await c.waitFor(22);
    expect(udpStatus(running)).toMatchObject({ sessions: 1, created: 2 });
  });

  it('an offloaded client that keeps sending stays among the recent clients: out-of-band sends reach it past the window', async () => {
    const backend = await echoBackend();
    const { running } = await start({ ...listener([udpDest(backend.port)]), egress: { recentClientSeconds: 1 }, admin: { port: 0, token: 'offload-token-123' } });
    const c = await client();
    const port = running.gateway.address().port;
    await pingPong(c, port, 0, 3);
    expect(listenerOffload(running)!.flows).toBe(1);
    // 1.6 s of datagrams, all through the addon: past the 1-second window since JS last saw one.
    for (let i = 3; i < 19; i++) { await c.send(`m${i}`, port); await sleep(100); }
    await c.waitFor(19);
    expect(listenerOffload(running)!.packetsIn).toBeGreaterThanOrEqual(16);
    const r = await fetch(`${running.adminUrl}/v1/send`, {
      method: 'POST', headers: { authorization: 'Bearer offload-token-123', 'content-type': 'application/json' },
      body: JSON.stringify({ Messages: [{ Data: Buffer.from('pushed').toString('base64'), Remote: { Address: '127.0.0.1', Port: c.port } }] }),
    });
    expect(r.status).toBe(200);
    await c.waitFor(20);
    expect(c.received.at(-1)!.data.toString()).toBe('pushed');
  });

  it('ending a session (POST /v1/sessions/end) stops its forwarding at once', async () => {
    const backend = await echoBackend();
    const { running } = await start(listener([udpDest(backend.port)]));
    const c = await client();
    const port = running.gateway.address().port;
    await pingPong(c, port, 0, 3);
    expect(listenerOffload(running)!.flows).toBe(1);
    expect(running.gateway.endSessions({ client: { address: '127.0.0.1', port: c.port } })).toBe(1);
    expect(listenerOffload(running)!.flows).toBe(0);
    await pingPong(c, port, 3, 1);
    expect(udpStatus(running)).toMatchObject({ created: 2 });
  });

  it('a reload that adds a destination ends the offload: the new destination gets the packets that follow', async () => {
    const a = await echoBackend('a'), b = await echoBackend('b');
    const { running, write } = await start(listener([udpDest(a.port)]));
    const c = await client();
    const port = running.gateway.address().port;
    await pingPong(c, port, 0, 4);
    expect(listenerOffload(running)!.flows).toBe(1);
    write(listener([udpDest(a.port), { name: 'other', type: 'udp', backends: [`127.0.0.1:${b.port}`], replies: false }]));
    expect((await running.reload('test')).result).toBe('applied');
    await pingPong(c, port, 4, 3);
    expect(b.got).toEqual(['m4', 'm5', 'm6']);
    expect(a.got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(listenerOffload(running)!.flows).toBe(0);
  });
});
