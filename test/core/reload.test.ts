/**
 * Reload without a restart (app/reload.ts), on real sockets on 127.0.0.1: the config file is
 * rewritten and POST /v1/reload (or reload()) applies the difference to the running gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { recorded, release } from '../support/memory-destination.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { loadConfig } from '../../app/config/load.js';
import { runGateway, type RunningGateway } from '../../app/run.js';
import { canonicalJson, diffConfigs, RESTART_REQUIRED_KEYS } from '../../app/reload/diff.js';
import { readme } from '../support/readme.js';
import { dgramTransport } from '../../net/dgram.js';

const log = pino({ level: 'silent' });
let open: { close(): Promise<void> }[] = [];
afterEach(async () => { for (const o of open.splice(0).reverse()) await o.close(); });

let seq = 0;
interface Fixture { running: RunningGateway; write(cfg: Record<string, unknown>): void; prefix: string; token: string }

/** A gateway started from a YAML file that a test rewrites, then reloads. */
async function start(cfg: Record<string, unknown>): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-reload-'));
  const file = join(dir, 'gw.yaml');
  const prefix = `r${++seq}-`;
  const token = 'reload-token-123';
  const write = (c: Record<string, unknown>) => writeFileSync(file, stringify({ secret: 'reload-secret-0123456789', admin: { port: 0, token }, shutdownDeadlineMs: 3000, ...c }));
  write(cfg);
  const load = () => loadConfig({ file, env: {} });
  const running = await runGateway(load(), { logger: log, transport: dgramTransport, reloadConfig: load });
  open.push({ close: () => running.stop() });
  return { running, write, prefix, token };
}

const mem = (prefix: string, name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'memory', prefix, ...extra });
const packets = (key: string) => (recorded.get(key) ?? []).flat().map((p) => p.data.toString());

async function client(): Promise<UdpClient> {
  const c = await UdpClient.open();
  open.push(c);
  return c;
}

async function postReload(f: Fixture, token = f.token): Promise<{ status: number; body: Record<string, any> }> {
  const r = await fetch(`${f.running.adminUrl}/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const body = await r.json() as Record<string, any>;
  return { status: r.status, body };
}

describe('reload', () => {
  it('adds a destination: packets reach it afterwards; the listener keeps its socket and the other destination its runner', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const port = gw.address().port;
    const socket = gw.listeners.get('edge');
    const runnerA = gw.runners[0];
    const c = await client();
    await c.send('one', port);
    await eventually(() => packets(`${f.prefix}a`).includes('one'), 5000, 'a got one');

    f.write({ listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'a'), mem(f.prefix, 'b')] }] });
    const { status, body } = await postReload(f);
    expect(status).toBe(200);
    expect(body.result).toBe('applied');
    expect(body.changes.destinations.added).toEqual(['edge/b']);
    expect(body.changes.listeners.unchanged).toEqual(['edge']);
    expect(gw.listeners.get('edge')).toBe(socket);       // same Listener, same socket
    expect(gw.address().port).toBe(port);
    expect(gw.runners).toContain(runnerA);               // unchanged destination: same runner

    await c.send('two', port);
    await eventually(() => packets(`${f.prefix}b`).includes('two') && packets(`${f.prefix}a`).includes('two'), 5000, 'a and b got two');
    expect(packets(`${f.prefix}b`)).toEqual(['two']);
    const metrics = await (await fetch(`${f.running.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/udpgw_config_reloads_total\{result="applied"\} 1/);
    expect(metrics).toContain(`udpgw_config_info{hash="${body.hash}"} 1`);
  });

  it('removes a destination: what it had queued is delivered (it drains), then it gets nothing more', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'keep'), mem(`r${seq + 1}-`, 'slow', { mode: 'stall', inFlight: 1, batch: { maxPackets: 1, lingerMs: 0 } })] }] });
    const gw = f.running.gateway;
    const port = gw.address().port;
    const c = await client();
    await c.send('q1', port);
    await c.send('q2', port);
    // q1 is in flight (stalled), q2 waits in the queue.
    const slow = gw.runners.find((r) => r.id === 'edge/slow')!;
    await eventually(() => slow.queued === 1 && slow.inFlight === 1, 5000, 'q2 queued behind q1');

    f.write({ listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'keep')] }] });
    const reloading = postReload(f);
    await eventually(() => !gw.listeners.get('edge')!.status().destinations!.toString().includes('slow'), 5000, 'lanes swapped');
    await c.send('after', port);
    await eventually(() => packets(`${f.prefix}keep`).includes('after'), 5000, 'keep got after');
    release(`${f.prefix}slow`);
    const { status, body } = await reloading;
    expect(status).toBe(200);
    expect(body.changes.destinations.removed).toEqual(['edge/slow']);
    expect(body.drained).toEqual([{ id: 'edge/slow', queued: 1 }]);
    expect(packets(`${f.prefix}slow`)).toEqual(['q1', 'q2']); // the queued packet was delivered, 'after' never came
    expect(gw.runners.map((r) => r.id)).toEqual(['edge/keep']);
    const metrics = await (await fetch(`${f.running.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/udpgw_destination_queued\{destination="edge\/keep"\} 0/);
    expect(metrics).not.toMatch(/udpgw_destination_queued\{destination="edge\/slow"\}/); // a removed destination's gauges leave /metrics
  });

  it('changes a destination: a new runner with the new options; the old one drains', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'x')] }] });
    const gw = f.running.gateway;
    const port = gw.address().port;
    const before = gw.runners[0];
    f.write({ listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'x', { mode: 'echo' })] }] });
    const { body } = await postReload(f);
    expect(body.changes.destinations.changed).toEqual(['edge/x']);
    expect(gw.runners).toHaveLength(1);
    expect(gw.runners[0]).not.toBe(before);
    const c = await client();
    await c.send('ping', port);
    const [r] = await c.waitFor(1);
    expect(r!.data.toString()).toBe('echo:ping'); // the new options (echo) are in effect
  });

  it('an unchanged listener keeps its port, and a udp proxy session its upstream socket, across a reload that changes another', async () => {
    const backend = await UdpClient.open();
    open.push(backend);
    backend.socket.on('message', (m, r) => backend.socket.send(Buffer.concat([Buffer.from('re:'), m]), r.port, r.address));
    const proxy = { name: 'proxy', port: 0, destinations: [{ name: 'up', type: 'udp', backends: [`127.0.0.1:${backend.port}`] }] };
    const f = await start({ listeners: [proxy, { name: 'other', port: 0, destinations: [mem(`r${seq + 1}-`, 'o')] }] });
    const gw = f.running.gateway;
    const port = gw.address('proxy').port;
    const c = await client();
    await c.send('first', port);
    await c.waitFor(1);
    const upstreamBefore = backend.received[0]!.port;

    f.write({ listeners: [proxy, { name: 'other', port: 0, allow: ['127.0.0.0/8'], destinations: [mem(f.prefix, 'o'), mem(f.prefix, 'o2')] }] });
    const { body } = await postReload(f);
    expect(body.changes.listeners).toMatchObject({ unchanged: ['proxy'], rebound: ['other'] });
    expect(gw.address('proxy').port).toBe(port);
    await c.send('second', port);
    const replies = await c.waitFor(2);
    expect(replies.map((r) => r.data.toString())).toEqual(['re:first', 're:second']);
    expect(backend.received[1]!.port).toBe(upstreamBefore); // the same session, the same upstream socket
  });

  it('an invalid config leaves everything running, and the answer names the path', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const port = gw.address().port;
    const hash = (await postReload(f)).body.hash as string; // nothing changed yet
    f.write({ listeners: [{ name: 'edge', port: 0, colour: 'red', destinations: [mem(f.prefix, 'a'), mem(f.prefix, 'b')] }] });
    const { status, body } = await postReload(f);
    expect(status).toBe(422);
    expect(body).toMatchObject({ result: 'invalid', code: 'UGW_ERR_CONFIG_INVALID', hash });
    expect(body.problems).toEqual([{ path: '/listeners/0/colour', message: 'unknown key: remove it or check its spelling' }]);
    expect(gw.runners.map((r) => r.id)).toEqual(['edge/a']);
    const c = await client();
    await c.send('still', port);
    await eventually(() => packets(`${f.prefix}a`).includes('still'), 5000, 'still delivered');
    const metrics = await (await fetch(`${f.running.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/udpgw_config_reloads_total\{result="invalid"\} 1/);
    expect(metrics).toContain(`udpgw_config_info{hash="${hash}"} 1`);
  });

  it('a valid config that cannot be applied (a port in use) leaves the running gateway as it was', async () => {
    const taken = await client();
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const port = gw.address().port;
    f.write({ listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'a'), mem(f.prefix, 'b')] }, { name: 'clash', port: taken.port, destinations: [mem(f.prefix, 'c')] }] });
    const { status, body } = await postReload(f);
    expect(status).toBe(500);
    expect(body).toMatchObject({ result: 'failed', code: 'UGW_ERR_LISTENER_BIND' });
    expect([...gw.listeners.keys()]).toEqual(['edge']);
    expect(gw.runners.map((r) => r.id)).toEqual(['edge/a']); // b was built, then closed again
    expect(gw.config.listeners[0]!.destinations.map((d) => d.name)).toEqual(['a']);
  });

  it('refuses to change a disk-buffered destination in place (its directory is locked until the old one drained), changing nothing', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a'), mem(`r${seq + 1}-`, 'd', { buffer: { disk: { path: 'buf' } } })] }] });
    const gw = f.running.gateway;
    const runners = [...gw.runners];
    f.write({ listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'a'), mem(f.prefix, 'b'), mem(f.prefix, 'd', { buffer: { disk: { path: 'buf' } }, inFlight: 2 })] }] });
    const { status, body } = await postReload(f);
    expect(status).toBe(500);
    expect(body).toMatchObject({ result: 'failed', code: 'UGW_ERR_RELOAD_FAILED' });
    expect(body.message).toMatch(/^destination edge\/d changed, and its disk buffer .*buf stays locked/);
    expect(gw.runners).toEqual(runners);
  });

  it('global keys it cannot apply live are reported, and keep their running value', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    f.write({ secret: 'another-secret-0123456789', shutdownDeadlineMs: 1234, listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'a')] }] });
    const { status, body } = await postReload(f);
    expect(status).toBe(200);
    expect(body.restartRequired).toEqual(['secret']);
    expect(body.summary).toBe('shutdownDeadlineMs 3000 -> 1234; restart required for: secret');
    expect(gw.config.secret).toBe('reload-secret-0123456789');
    expect(gw.config.shutdownDeadlineMs).toBe(1234);
  });

  it('adds and removes listeners; a removed one stops receiving', async () => {
    const f = await start({ listeners: [{ name: 'one', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const port = gw.address('one').port;
    f.write({ listeners: [{ name: 'two', port: 0, destinations: [mem(f.prefix, 'b')] }] });
    const { body } = await postReload(f);
    expect(body.changes.listeners).toMatchObject({ added: ['two'], removed: ['one'] });
    expect([...gw.listeners.keys()]).toEqual(['two']);
    const c = await client();
    await c.send('new', gw.address('two').port);
    await eventually(() => packets(`${f.prefix}b`).includes('new'), 5000, 'b got new');
    expect(gw.egress.listeners()).toEqual(['two']);
    // The old port is free again: another socket can bind it.
    const again = (await import('node:dgram')).createSocket('udp4');
    await new Promise<void>((resolve, reject) => { again.once('error', reject); again.bind(port, '127.0.0.1', () => resolve()); });
    await new Promise<void>((r) => again.close(() => r()));
  });

  it('a rebound listener keeps the clients it had seen: out-of-band packets to them are still allowed', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const c = await client();
    await c.send('hello', gw.address().port);
    await eventually(() => packets(`${f.prefix}a`).includes('hello'), 5000, 'a got hello');
    f.write({ listeners: [{ name: 'edge', port: 0, allow: ['127.0.0.0/8'], destinations: [mem(f.prefix, 'a')] }] });
    expect((await postReload(f)).body.changes.listeners.rebound).toEqual(['edge']);
    const r = await fetch(`${f.running.adminUrl}/v1/send`, { method: 'POST', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ Messages: [{ Data: 'cHVzaA==', Remote: { Address: '127.0.0.1', Port: c.port } }] }) });
    expect(((await r.json()) as { messages: { status: string }[] }).messages).toEqual([{ status: 'sent' }]); // not address-refused
    const [got] = await c.waitFor(1);
    expect([got!.data.toString(), got!.port]).toEqual(['push', gw.address().port]);
  });

  it('rebinds a listener on the address its socket holds (closed, then bound again), keeping its destinations', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const port = gw.address().port;
    const runner = gw.runners[0];
    const before = gw.listeners.get('edge');
    f.write({ listeners: [{ name: 'edge', port, destinations: [mem(f.prefix, 'a')] }] });
    const { body } = await postReload(f);
    expect(body.changes.listeners.rebound).toEqual(['edge']);
    expect(gw.listeners.get('edge')).not.toBe(before);
    expect(gw.runners).toEqual([runner]);
    const c = await client();
    await c.send('again', port);
    await eventually(() => packets(`${f.prefix}a`).includes('again'), 5000, 'a got again on the same port');
  });

  it('reloads that rebuild a listener reuse its metric counters: the hot counters do not grow, counts go on', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const gw = f.running.gateway;
    const c = await client();
    await c.send('one', gw.address().port);
    await eventually(() => packets(`${f.prefix}a`).includes('one'), 5000, 'a got one');
    const counters = () => [gw.metrics.packetsIn.hotChildren, gw.metrics.bytesIn.hotChildren, gw.metrics.drops.hotChildren];
    const before = counters();
    for (let i = 0; i < 4; i++) {
      f.write({ listeners: [{ name: 'edge', port: 0, ...(i % 2 === 0 ? { allow: ['127.0.0.0/8'] } : {}), destinations: [mem(f.prefix, 'a')] }] });
      expect((await postReload(f)).body.changes.listeners.rebound).toEqual(['edge']);
    }
    expect(counters()).toEqual(before);
    await c.send('two', gw.address().port);
    await eventually(() => packets(`${f.prefix}a`).includes('two'), 5000, 'a got two');
    const metrics = await (await fetch(`${f.running.adminUrl}/metrics`)).text();
    expect(metrics).toContain('udpgw_packets_received_total{listener="edge"} 2');
  });

  it('refuses the reload token-less, before it reads the body', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const { status, body } = await postReload(f, 'wrong-token');
    expect(status).toBe(401);
    expect(body.code).toBe('UGW_ERR_ADMIN_UNAUTHORIZED');
    const metrics = await (await fetch(`${f.running.adminUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/udpgw_config_reloads_total\{/);
  });

  it('reloads one at a time, in the order asked', async () => {
    const f = await start({ listeners: [{ name: 'edge', port: 0, destinations: [mem(`r${seq + 1}-`, 'a')] }] });
    const port = f.running.gateway.address().port;
    f.write({ listeners: [{ name: 'edge', port: 0, destinations: [mem(f.prefix, 'a'), mem(f.prefix, 'b')] }] });
    const [one, two] = await Promise.all([f.running.reload('first'), f.running.reload('second')]);
    expect(one.changes!.destinations.added).toEqual(['edge/b']);
    expect(two.summary).toBe('no changes'); // the second saw the first's result, not a half-applied state
  });
});

describe('config diff', () => {
  it('compares entries by canonical JSON: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 0 } })).toBe('{"a":{"c":0,"d":[1,{"x":1,"y":2}]},"b":1}');
    const base = { secret: 's'.repeat(16), listeners: [{ name: 'e', port: 1, destinations: [{ name: 'a', type: 'memory' }] }] };
    const a = loadConfig({ raw: base, env: {} });
    const b = loadConfig({ raw: { ...base, formatter: 'hex' }, env: {} });
    expect(diffConfigs(a, b).listeners.rebound).toEqual(['e']); // the global formatter is the listener's
    expect(diffConfigs(a, loadConfig({ raw: { listeners: base.listeners, secret: base.secret }, env: {} })).listeners.unchanged).toEqual(['e']);
  });

  it('the README lists exactly the keys a reload does not apply', () => {
    const row = readme().split('\n').find((l) => l.includes('| not applied: the running value stays'))!;
    expect([...row.split('|')[1]!.matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1])).toEqual([...RESTART_REQUIRED_KEYS]);
  });
});
