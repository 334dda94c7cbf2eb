import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { createSnsHttpSource, type SnsHttpDeps, type SnsHttpSource } from '../../packet-source/sns-http/index.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';
import { RecentClients } from '../../gateway/recent-clients.js';
import { createHarness, createUdpClient, quiet, waitFor, type Harness, type UdpClient } from './harness.js';
import { certFetcher, makeSigner, signedEnvelope, TOPIC, type EnvelopeInput } from './sns-fixtures.js';

const signer = makeSigner();
let h: Harness;
let client: UdpClient;
let source: SnsHttpSource | undefined;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  h = await createHarness();
  client = await createUdpClient();
});

afterEach(async () => {
  await source?.close();
  source = undefined;
  for (const c of closers.splice(0)) await c();
  await client.close();
  await h.close();
});

async function start(deps: SnsHttpDeps = {}, verifySignatures = true): Promise<string> {
  source = createSnsHttpSource('sns', {
    host: '127.0.0.1', port: 0, path: '/sns', topicArns: [TOPIC], verifySignatures,
    certificateHostPattern: '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$', maxRememberedMessageIds: 100,
  }, h.ctx, { fetchCertificate: certFetcher(signer.certPem).fetch, ...deps });
  await source.start();
  return `http://127.0.0.1:${source.address()!.port}/sns`;
}

async function post(url: string, body: unknown): Promise<{ status: number; outcome: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, outcome: ((await res.json()) as { outcome: string }).outcome };
}

const toClient = (data: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Messages: [{ Remote: { Address: '127.0.0.1', Port: client.port }, Data: Buffer.from(data).toString('base64'), ...extra }] });
const notification = (message: string, i: Partial<EnvelopeInput> = {}) => signedEnvelope(signer, { message, ...i });
const outcomes = (outcome: string) => counterValue(sourceMetrics(h.metrics).messages, { source: 'sns', outcome });
const refusals = (reason: string) => counterValue(h.metrics.egressRefused, { path: 'out_of_band', reason });

describe('sns-http packet source', () => {
  it('sends a notified packet to a seen client from the listener port', async () => {
    const url = await start();
    await client.hello(h);
    expect(await post(url, notification(toClient('push-1')))).toEqual({ status: 200, outcome: 'delivered' });
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('push-1');
    expect(got!.rinfo.port).toBe(h.listenerPort);
    expect(await outcomes('delivered')).toBe(1);
  });

  it('sends async replies by tag', async () => {
    const url = await start();
    const tag = h.codec.encode('edge', { address: '127.0.0.1', port: client.port }, Date.now());
    const doc = JSON.stringify({ Replies: [{ Tag: tag, Data: Buffer.from('pong').toString('base64') }] });
    expect((await post(url, notification(doc))).status).toBe(200);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('pong');
    expect(got!.rinfo.port).toBe(h.listenerPort);
  });

  it('refuses a tampered notification with 403 and sends nothing', async () => {
    const url = await start();
    await client.hello(h);
    const env = notification(toClient('original'));
    expect(await post(url, { ...env, Message: toClient('forged') })).toEqual({ status: 403, outcome: 'bad-signature' });
    await quiet();
    expect(client.inbox).toHaveLength(0);
    expect(await outcomes('bad-signature')).toBe(1);
  });

  it('answers 400 to malformed bodies and documents', async () => {
    const url = await start();
    expect(await post(url, 'not json')).toEqual({ status: 400, outcome: 'malformed' });
    expect(await post(url, notification('{"Messages":"nope"}'))).toEqual({ status: 400, outcome: 'malformed' });
    expect(await post(url, notification('{"Messages":[{"Data":"x"}]}'))).toEqual({ status: 400, outcome: 'malformed' });
    expect(await outcomes('malformed')).toBe(3);
  });

  it('sends a retried delivery (same MessageId) once', async () => {
    const url = await start();
    await client.hello(h);
    const env = notification(toClient('once'));
    expect((await post(url, env)).outcome).toBe('delivered');
    expect(await post(url, env)).toEqual({ status: 200, outcome: 'duplicate' });
    await client.next();
    await quiet();
    expect(client.inbox.map((p) => p.data.toString())).toEqual(['once']);
  });

  it('refuses and counts a packet for a client never seen', async () => {
    const url = await start();
    expect(await post(url, notification(toClient('unsolicited')))).toEqual({ status: 200, outcome: 'refused' });
    await quiet();
    expect(client.inbox).toHaveLength(0);
    expect(await refusals('address-refused')).toBe(1);
    expect(await counterValue(sourceMetrics(h.metrics).packets, { source: 'sns', result: 'address-refused' })).toBe(1);
  });

  it('drops a packet whose TtlSeconds ran out since the SNS Timestamp, sends a fresh one', async () => {
    const url = await start();
    await client.hello(h);
    const old = new Date(Date.now() - 120_000).toISOString();
    expect((await post(url, notification(toClient('stale', { TtlSeconds: 60 }), { timestamp: old }))).outcome).toBe('refused');
    expect((await post(url, notification(toClient('fresh', { TtlSeconds: 60 })))).outcome).toBe('delivered');
    await client.next();
    await quiet();
    expect(client.inbox.map((p) => p.data.toString())).toEqual(['fresh']);
    expect(await refusals('expired')).toBe(1);
  });

  it('sends from another configured listener named by "Listener", refuses an unknown one', async () => {
    const other = createSocket('udp4');
    other.bind(0, '127.0.0.1');
    await once(other, 'listening');
    closers.push(() => new Promise((r) => other.close(() => r())));
    const seen = new RecentClients(60_000, 10);
    seen.touch('127.0.0.1', Date.now());
    h.egress.attach({ name: 'other', formatter: 'base64', recentClients: seen, family: 4, transmit: (r, d) => other.send(d, r.port, r.address) });
    const url = await start();
    expect((await post(url, notification(toClient('via-other', { Listener: 'other' })))).outcome).toBe('delivered');
    const [got] = await client.next();
    expect(got!.rinfo.port).toBe(other.address().port);
    expect((await post(url, notification(toClient('x', { Listener: 'nope' })))).outcome).toBe('refused');
    expect(await refusals('unknown-listener')).toBe(1);
  });

  it('confirms a subscription for a configured topic against a local server, not for others', async () => {
    const gets: string[] = [];
    const server: Server = createServer((req, res) => { gets.push(req.url!); res.end('<ConfirmSubscriptionResponse/>'); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise((r) => server.close(() => r())));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const url = await start({
      checkSubscribeUrl: (raw) => (raw.startsWith(base) ? new URL(raw) : new Error('not the local server')),
      confirmSubscription: async (u) => { const r = await fetch(u); if (!r.ok) throw new Error(`HTTP ${r.status}`); },
    });
    const confirm = (topicArn: string, token: string) => signedEnvelope(signer, { type: 'SubscriptionConfirmation', message: 'confirm', topicArn, subscribeUrl: `${base}/?Action=ConfirmSubscription&Token=${token}` });
    expect(await post(url, confirm(TOPIC, 'good'))).toEqual({ status: 200, outcome: 'confirmed' });
    expect(await post(url, confirm('arn:aws:sns:us-east-1:999999999999:attacker', 'evil'))).toEqual({ status: 403, outcome: 'topic-not-allowed' });
    expect(gets).toEqual(['/?Action=ConfirmSubscription&Token=good']);
  });

  it('does not confirm a SubscribeURL off the SNS hosts by default', async () => {
    const confirmed: string[] = [];
    const url = await start({ confirmSubscription: async (u) => { confirmed.push(u.href); } });
    const env = signedEnvelope(signer, { type: 'SubscriptionConfirmation', message: 'c', subscribeUrl: 'https://attacker.example/confirm' });
    expect(await post(url, env)).toEqual({ status: 400, outcome: 'malformed' });
    const good = signedEnvelope(signer, { type: 'SubscriptionConfirmation', message: 'c' });
    expect((await post(url, good)).outcome).toBe('confirmed');
    expect(confirmed).toEqual([good.SubscribeURL]);
  });

  it('logs an UnsubscribeConfirmation and answers 200', async () => {
    const url = await start();
    expect(await post(url, signedEnvelope(signer, { type: 'UnsubscribeConfirmation', message: 'bye' }))).toEqual({ status: 200, outcome: 'unsubscribed' });
  });

  it('skips verification when verifySignatures is false (emulators only)', async () => {
    const url = await start({}, false);
    await client.hello(h);
    const env = { ...notification(toClient('unsigned')), Signature: 'AAAA' };
    expect((await post(url, env)).outcome).toBe('delivered');
    await waitFor(() => client.inbox.length === 1);
    expect(client.inbox[0]!.data.toString()).toBe('unsigned');
  });
});
