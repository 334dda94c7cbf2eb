/** The pipeline end to end on real sockets on 127.0.0.1, with in-memory destinations. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { recorded, release } from '../support/memory-destination.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { createTagCodec } from '../../gateway/tag.js';
import { dgramTransport } from '../../net/dgram.js';
import { nativeTransport } from '../../net/native.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import type { TransportFactory } from '../../gateway/extension/transport.js';

// The core integration tests run on both receive paths; the native one is part of the product on
// Linux (test/transport/native.test.ts fails loudly when it is not built).
const transports: [string, TransportFactory][] = [['dgram', dgramTransport]];
if (loadNativeAddon().addon) transports.push(['native', nativeTransport]);

const SECRET = 'test-secret-0123456789abcdef';
const log = pino({ level: 'silent' });
let open: { close(): Promise<void> }[] = [];
afterEach(async () => { await Promise.all(open.map((o) => o.close())); open = []; });

let seq = 0;
let transport: TransportFactory = dgramTransport;
/** Memory destinations answer with a promise, or synchronously (the runner's no-promise path). */
let sync = false;
async function gateway(destinations: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<{ gw: Gateway; prefix: string }> {
  const prefix = `t${++seq}-`;
  const cfg = resolveConfig({
    secret: SECRET, shutdownDeadlineMs: 2000, ...extra,
    listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: destinations.map((d) => ({ type: 'memory', prefix, sync, ...d })) }],
  }, '/tmp');
  const gw = await createGateway(cfg, { logger: log, transport });
  open.push(gw);
  return { gw, prefix };
}

async function client(): Promise<UdpClient> {
  const c = await UdpClient.open();
  open.push(c);
  return c;
}

const metric = async (gw: Gateway, name: string, labels: Record<string, string>) => {
  const m = (await gw.metrics.registry.getSingleMetric(name)!.get()).values;
  return m.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
};

const cases = transports.flatMap(([name, factory]) => [false, true].map((s) => [name, s ? 'synchronous' : 'asynchronous', factory, s] as const));
describe.each(cases)('pipeline on the %s transport, %s destinations', (_name, _kind, factory, syncDestinations) => {
  beforeEach(() => { transport = factory; sync = syncDestinations; });
  it('a reply reaches the client that sent, from the listener port', async () => {
    const { gw } = await gateway([{ name: 'echo', mode: 'echo' }]);
    const a = await client(), b = await client();
    const port = gw.address().port;
    await a.send('from-a', port);
    await b.send('from-b', port);
    const [ra] = await a.waitFor(1);
    const [rb] = await b.waitFor(1);
    expect(ra!.data.toString()).toBe('echo:from-a');
    expect(rb!.data.toString()).toBe('echo:from-b');
    expect(ra!.port).toBe(port);
    expect(rb!.address).toBe('127.0.0.1');
    expect(await metric(gw, 'udpgw_packets_sent_total', { listener: 'edge', path: 'reply' })).toBe(2);
  });

  it('tags each packet with the client address and the listener', async () => {
    const { gw, prefix } = await gateway([{ name: 'rec' }]);
    const a = await client();
    await a.send('x', gw.address().port);
    await eventually(() => recorded.get(prefix + 'rec')!.flat().length === 1);
    const p = recorded.get(prefix + 'rec')![0]![0]!;
    expect(gw.codec.decode(p.tag)).toMatchObject({ ok: true, claims: { listener: 'edge', remote: { address: '127.0.0.1', port: a.port } } });
  });

  it('refuses forged and expired tags on the async reply path, and counts them', async () => {
    const { gw, prefix } = await gateway([{ name: 'rec' }]);
    const admin = buildAdminApi(gw, { token: 'token-123456' });
    open.push(admin);
    const a = await client();
    await a.send('x', gw.address().port);
    await eventually(() => recorded.get(prefix + 'rec')!.flat().length === 1);
    const tag = recorded.get(prefix + 'rec')![0]![0]!.tag;
    const forger = createTagCodec({ secret: Buffer.from('not-the-gateway-secret'), replyWindowMs: 60_000 });
    const forged = forger.encode('edge', { address: '127.0.0.1', port: a.port }, Date.now());
    const expired = gw.codec.encode('edge', { address: '127.0.0.1', port: a.port }, Date.now() - 61_000);
    const auth = { authorization: 'Bearer token-123456' };
    const res = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Replies: [{ Tag: forged, Data: 'Zm9yZ2Vk' }, { Tag: expired, Data: 'b2xk' }, { Tag: tag, Data: 'b2s=' }] } });
    expect(res.statusCode).toBe(207);
    expect(res.json().replies).toEqual([{ status: 'refused', reason: 'tag-forged' }, { status: 'refused', reason: 'tag-expired' }, { status: 'sent' }]);
    // The refused replies came first in the request: sent, they would have arrived before 'ok'.
    const [r] = await a.waitFor(1);
    expect(r!.data.toString()).toBe('ok');
    expect(await metric(gw, 'udpgw_egress_refused_total', { reason: 'tag-forged' })).toBe(1);
    expect(await metric(gw, 'udpgw_egress_refused_total', { reason: 'tag-expired' })).toBe(1);
    const unauth = await admin.inject({ method: 'POST', url: '/v1/send', payload: { Replies: [{ Tag: tag, Data: 'b2s=' }] } });
    expect(unauth.statusCode).toBe(401);
  });

  it('a dead destination does not stop another on the same listener', async () => {
    const { gw, prefix } = await gateway([{ name: 'dead', mode: 'fail', retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }, { name: 'echo', mode: 'echo' }]);
    const a = await client();
    for (let i = 0; i < 5; i++) await a.send(`p${i}`, gw.address().port);
    const got = await a.waitFor(5);
    expect(got.map((r) => r.data.toString()).sort()).toEqual(['echo:p0', 'echo:p1', 'echo:p2', 'echo:p3', 'echo:p4']);
    await eventually(async () => (await metric(gw, 'udpgw_destination_failed_total', { destination: 'edge/dead' })) === 5);
    expect(recorded.get(prefix + 'dead')!.length).toBeGreaterThanOrEqual(2);
  });

  it('a full queue drops and the metric says so', async () => {
    const { gw, prefix } = await gateway([{ name: 'slow', mode: 'stall', queue: { maxPackets: 3 }, inFlight: 1, batch: { maxPackets: 1, lingerMs: 0 } }, { name: 'rec' }]);
    const a = await client();
    for (let i = 0; i < 10; i++) await a.send(`p${i}`, gw.address().port);
    await eventually(() => recorded.get(prefix + 'rec')!.flat().length === 10, 5000, 'the other destination to get all 10');
    // one in flight (stalled), three queued, six dropped
    await eventually(async () => (await metric(gw, 'udpgw_drops_total', { where: 'edge/slow', reason: 'queue-full' })) === 6);
    expect(gw.runners.find((r) => r.id === 'edge/slow')!.queued).toBe(3);
    release(prefix + 'slow');
  });

  it('retries only the packets that failed retryably', async () => {
    const { gw, prefix } = await gateway([{ name: 'flaky', mode: 'flaky', batch: { maxPackets: 4, lingerMs: 50 }, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }]);
    const a = await client();
    for (let i = 0; i < 4; i++) await a.send(`p${i}`, gw.address().port);
    await eventually(async () => (await metric(gw, 'udpgw_destination_delivered_total', { destination: 'edge/flaky' })) === 4);
    const batches = recorded.get(prefix + 'flaky')!.map((b) => b.map((p) => p.data.toString()));
    expect(batches).toEqual([['p0', 'p1', 'p2', 'p3'], ['p1', 'p3']]);
    expect(await metric(gw, 'udpgw_destination_retried_total', { destination: 'edge/flaky' })).toBe(2);
  });

  it('batches by count and splits by the destination limits', async () => {
    const { gw, prefix } = await gateway([{ name: 'b', batch: { maxPackets: 10, lingerMs: 200 }, maxBatchPackets: 3, maxPacketBytes: 5 }]);
    const a = await client();
    for (const m of ['a', 'b', 'c', 'd', 'toolong', 'e']) await a.send(m, gw.address().port);
    await eventually(() => recorded.get(prefix + 'b')!.flat().length === 5);
    expect(recorded.get(prefix + 'b')!.map((b) => b.map((p) => p.data.toString()))).toEqual([['a', 'b', 'c'], ['d', 'e']]);
    expect(await metric(gw, 'udpgw_drops_total', { where: 'edge/b', reason: 'oversize' })).toBe(1);
  });

  it('drops denied clients by CIDR and counts them', async () => {
    const prefix = `t${++seq}-`;
    const cfg = resolveConfig({ secret: SECRET, listeners: [{ name: 'edge', port: 0, deny: ['127.0.0.0/8'], destinations: [{ type: 'memory', name: 'r', prefix }] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: log, transport });
    open.push(gw);
    const a = await client();
    await a.send('x', gw.address().port);
    await eventually(async () => (await metric(gw, 'udpgw_drops_total', { where: 'edge', reason: 'denied' })) === 1);
    expect(recorded.get(prefix + 'r')!.length).toBe(0);
  });

  it('shutdown flushes what was queued before stopping', async () => {
    const { gw, prefix } = await gateway([{ name: 'lazy', batch: { maxPackets: 1000, lingerMs: 60_000 } }]);
    const a = await client();
    for (let i = 0; i < 20; i++) await a.send(`p${i}`, gw.address().port);
    await eventually(() => gw.runners[0]!.queued === 20);
    expect(recorded.get(prefix + 'lazy')!.length).toBe(0);
    await gw.shutdown(2000);
    expect(recorded.get(prefix + 'lazy')!.flat().length).toBe(20);
    expect(gw.state).toBe('stopped');
  });

  it('past the shutdown deadline, queued packets go to the dead-letter file', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-dlq-'));
    const { gw } = await gateway([{ name: 'stuck', mode: 'stall', inFlight: 1, batch: { maxPackets: 1, lingerMs: 0 }, deadLetter: { file: join(dir, 'dlq.ndjson') } }]);
    const a = await client();
    for (let i = 0; i < 3; i++) await a.send(`p${i}`, gw.address().port);
    await eventually(() => gw.runners[0]!.queued === 2);
    await gw.shutdown(100);
    const lines = readFileSync(join(dir, 'dlq.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => Buffer.from(l.Data, 'base64').toString())).toEqual(['p1', 'p2']);
    expect(lines[0]).toMatchObject({ Destination: 'edge/stuck', Reason: 'shutdown deadline passed before delivery' });
  });
});
