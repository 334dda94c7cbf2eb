import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { createSnsHttpSource, type SnsHttpDeps, type SnsHttpOptions, type SnsHttpSource } from '../../packet-source/sns-http/index.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';
import { RecentClients } from '../../gateway/recent-clients.js';
import { createHarness, createUdpClient, receivedBeforeMarker, waitFor, type Harness, type UdpClient } from './harness.js';
import { certFetcher, makeSigner, signedEnvelope, TOPIC, type EnvelopeInput } from './sns-fixtures.js';
import { rawConnect, postHead } from '../support/raw-http.js';

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

async function start(deps: SnsHttpDeps = {}, verifySignatures = true, extra: Partial<SnsHttpOptions> = {}): Promise<string> {
  source = createSnsHttpSource('sns', {
    host: '127.0.0.1', port: 0, path: '/sns', topicArns: [TOPIC], verifySignatures,
    certificateHostPattern: '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$', maxRememberedMessageIds: 100,
    maxMessageAgeSeconds: 3600, requestTimeoutMs: 10_000, maxConnections: 256, ...extra,
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
    expect(await receivedBeforeMarker(h, client)).toEqual([]);
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
    expect(await receivedBeforeMarker(h, client)).toEqual(['once']);
  });

  it('refuses and counts a packet for a client never seen', async () => {
    const url = await start();
    expect(await post(url, notification(toClient('unsolicited')))).toEqual({ status: 200, outcome: 'refused' });
    expect(await receivedBeforeMarker(h, client)).toEqual([]);
    expect(await refusals('address-refused')).toBe(1);
    expect(await counterValue(sourceMetrics(h.metrics).packets, { source: 'sns', result: 'address-refused' })).toBe(1);
  });

  it('drops a packet whose TtlSeconds ran out since the SNS Timestamp, sends a fresh one', async () => {
    const url = await start();
    await client.hello(h);
    const old = new Date(Date.now() - 120_000).toISOString();
    expect((await post(url, notification(toClient('stale', { TtlSeconds: 60 }), { timestamp: old }))).outcome).toBe('refused');
    expect((await post(url, notification(toClient('fresh', { TtlSeconds: 60 })))).outcome).toBe('delivered');
    expect(await receivedBeforeMarker(h, client)).toEqual(['fresh']);
    expect(await refusals('expired')).toBe(1);
  });

  it('sends from another configured listener named by "Listener", refuses an unknown one', async () => {
    const other = createSocket('udp4');
    other.bind(0, '127.0.0.1');
    await once(other, 'listening');
    closers.push(() => new Promise((r) => other.close(() => r())));
    const seen = new RecentClients(60_000, 10);
    seen.touch('127.0.0.1', Date.now());
    h.egress.attach({ name: 'other', formatter: 'base64', recentClients: seen, family: 4, transmit: (r, d) => { other.send(d, r.port, r.address); return undefined; } });
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

  it('refuses a validly signed notification from a topic not in topicArns, and sends nothing', async () => {
    const url = await start();
    await client.hello(h);
    const other = 'arn:aws:sns:us-east-1:123456789012:someone-else';
    expect(await post(url, notification(toClient('foreign'), { topicArn: other }))).toEqual({ status: 403, outcome: 'topic-not-allowed' });
    expect(await post(url, notification(toClient('listed')))).toEqual({ status: 200, outcome: 'delivered' });
    expect(await receivedBeforeMarker(h, client)).toEqual(['listed']);
    expect(await outcomes('topic-not-allowed')).toBe(1);
  });

  it('refuses a request whose x-amz-sns-message-type header differs from its Type, and sends nothing', async () => {
    const url = await start();
    await client.hello(h);
    const typed = async (type: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': type }, body: JSON.stringify(body) });
      return { status: res.status, outcome: ((await res.json()) as { outcome: string }).outcome };
    };
    expect(await typed('SubscriptionConfirmation', notification(toClient('mismatch')))).toEqual({ status: 400, outcome: 'malformed' });
    expect(await typed('Notification', notification(toClient('matching')))).toEqual({ status: 200, outcome: 'delivered' });
    expect(await receivedBeforeMarker(h, client)).toEqual(['matching']);
  });

  it('checks the topic before fetching a certificate: a foreign topic causes no fetch', async () => {
    const certs = certFetcher(signer.certPem);
    const url = await start({ fetchCertificate: certs.fetch });
    const foreign = notification(toClient('x'), { topicArn: 'arn:aws:sns:us-east-1:999999999999:other', certUrl: 'https://sns.eu-west-1.amazonaws.com/a.pem' });
    expect(await post(url, foreign)).toEqual({ status: 403, outcome: 'topic-not-allowed' });
    expect(certs.urls).toEqual([]);
  });

  it('remembers a failed certificate fetch: 12 requests, 1 fetch; at most 10 fetches a minute across URLs', async () => {
    const urls: string[] = [];
    const url = await start({ fetchCertificate: async (u) => { urls.push(u.href); throw new Error('HTTP 404'); } });
    for (let i = 0; i < 12; i++) expect(await post(url, notification(toClient('x')))).toEqual({ status: 403, outcome: 'bad-signature' });
    expect(urls).toHaveLength(1);
    for (let i = 0; i < 12; i++) await post(url, notification(toClient('x'), { certUrl: `https://sns.us-east-1.amazonaws.com/c${i}.pem` }));
    expect(urls).toHaveLength(10);
  });

  it('refuses a validly signed message older than maxMessageAgeSeconds, or from the future, as stale', async () => {
    const url = await start({}, true, { maxMessageAgeSeconds: 600 });
    await client.hello(h);
    const month = new Date(Date.now() - 30 * 86_400_000).toISOString();
    expect(await post(url, notification(toClient('old'), { timestamp: month }))).toEqual({ status: 400, outcome: 'stale' });
    expect(await post(url, notification(toClient('older than the window'), { timestamp: new Date(Date.now() - 601_000).toISOString() }))).toEqual({ status: 400, outcome: 'stale' });
    expect(await post(url, notification(toClient('ahead'), { timestamp: new Date(Date.now() + 3_600_000).toISOString() }))).toEqual({ status: 400, outcome: 'stale' });
    expect((await post(url, notification(toClient('fresh'), { timestamp: new Date(Date.now() - 590_000).toISOString() }))).outcome).toBe('delivered');
    expect(await receivedBeforeMarker(h, client)).toEqual(['fresh']);
    expect(await outcomes('stale')).toBe(3);
  });

  it('never delivers a replay, even after its MessageId left the bounded memory', async () => {
    const url = await start({}, true, { maxRememberedMessageIds: 3 });
    await client.hello(h);
    const t = Date.now() - 60_000;
    const envs = Array.from({ length: 6 }, (_, i) => notification(toClient(`m${i}`), { timestamp: new Date(t + i * 1000).toISOString() }));
    for (const e of envs) expect((await post(url, e)).outcome).toBe('delivered');
    await client.next(6);
    for (const e of envs) expect((await post(url, e)).outcome).toMatch(/^(duplicate|stale)$/);
    expect((await post(url, notification(toClient('new')))).outcome).toBe('delivered');
    expect(await receivedBeforeMarker(h, client)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'new']);
    expect(await outcomes('duplicate')).toBe(3);
    expect(await outcomes('stale')).toBe(3);
  });

  it('closes a connection whose body trickles in past requestTimeoutMs, and caps connections', async () => {
    const url = await start({}, true, { requestTimeoutMs: 500, maxConnections: 2 });
    const port = Number(new URL(url).port);
    const slow = await rawConnect(port, postHead('/sns', 1000));
    slow.trickle(100, 200);
    const held = await rawConnect(port, 'POST /sns HTTP/1.1\r\n');
    const extra = await rawConnect(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await extra.closed(5_000);
    expect(extra.response()).toBe('');
    await Promise.all([slow.closed(10_000), held.closed(10_000)]);
    expect(slow.response()).toMatch(/^HTTP\/1\.1 408/);
  });
});
