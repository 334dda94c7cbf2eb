/**
 * SNS → gateway HTTP endpoint through moto_server. moto confirms http subscriptions itself (it sends no
 * SubscriptionConfirmation) and POSTs each notification synchronously during Publish. Its notifications are
 * signed (SignatureVersion 2) with a certificate it serves under https://sns.<region>.amazonaws.com/…; the
 * test's certificate fetcher reads that PEM from moto on 127.0.0.1, so signatures are really verified here.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { startMoto, type Moto } from '../aws/moto.js';
import { createSnsHttpSource, DEFAULT_CERTIFICATE_HOST_PATTERN, type SnsHttpSource } from '../../packet-source/sns-http/index.js';
import { sendPackets } from '../../packet-source/publisher/index.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';
import { createHarness, createUdpClient, type Harness, type UdpClient } from './harness.js';

let moto: Moto;
let sns: SNSClient;
let h: Harness;
let client: UdpClient;
let source: SnsHttpSource | undefined;
let topicSeq = 0;

beforeAll(async () => { moto = await startMoto(); sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1' }); });
afterAll(async () => { sns?.destroy(); await moto?.stop(); });
beforeEach(async () => { h = await createHarness(); client = await createUdpClient(); });
afterEach(async () => { await source?.close(); source = undefined; await client.close(); await h.close(); });

/** GET the PEM moto serves for a SigningCertURL (moto routes by the SigV4 scope, hence the dummy header). */
function motoCertificate(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: Number(new URL(moto.endpoint).port), path: url.pathname,
      headers: { host: url.host, authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0' },
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`moto cert: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function subscribedTopic(verifySignatures: boolean): Promise<string> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `push-${++topicSeq}` }));
  source = createSnsHttpSource('sns', {
    host: '127.0.0.1', port: 0, path: '/sns', topicArns: [TopicArn!], verifySignatures,
    certificateHostPattern: DEFAULT_CERTIFICATE_HOST_PATTERN, maxRememberedMessageIds: 100, maxMessageAgeSeconds: 3600, requestTimeoutMs: 10_000, maxConnections: 256,
  }, h.ctx, { fetchCertificate: motoCertificate });
  await source.start();
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `http://127.0.0.1:${source.address()!.port}/sns` }));
  return TopicArn!;
}

const delivered = () => counterValue(sourceMetrics(h.metrics).messages, { source: 'sns', outcome: 'delivered' });

describe('sns-http with moto_server', () => {
  it('delivers a Publish made with the SDK, signature verified, from the listener port', async () => {
    const topicArn = await subscribedTopic(true);
    await client.hello(h);
    const doc = { Messages: [{ Remote: { Address: '127.0.0.1', Port: client.port }, Data: Buffer.from('sdk-push').toString('base64') }] };
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(doc) }));
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('sdk-push');
    expect(got!.rinfo.port).toBe(h.listenerPort);
    expect(await delivered()).toBe(1);
  });

  it('delivers packets published with the publisher library', async () => {
    const topicArn = await subscribedTopic(true);
    await client.hello(h);
    const result = await sendPackets({ topicArn }, [
      { address: '127.0.0.1', port: client.port, data: 'lib-1', ttlSeconds: 60 },
      { address: '127.0.0.1', port: client.port, data: 'lib-2', formatter: 'hex' },
    ], { client: sns });
    expect(result.messageIds).toHaveLength(1);
    const got = await client.next(2);
    expect(got.map((p) => p.data.toString()).sort()).toEqual(['lib-1', 'lib-2']);
    expect(got.every((p) => p.rinfo.port === h.listenerPort)).toBe(true);
  });

  it('works with verifySignatures: false too (emulators whose certificates cannot be fetched)', async () => {
    const topicArn = await subscribedTopic(false);
    await client.hello(h);
    await sendPackets({ topicArn }, [{ address: '127.0.0.1', port: client.port, data: 'unverified' }], { client: sns });
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('unverified');
  });
});
