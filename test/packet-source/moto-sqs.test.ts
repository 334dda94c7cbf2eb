/** The sqs packet source against moto_server: publisher → queue → poller → egress → real UDP client. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { startMoto, type Moto } from '../aws/moto.js';
import { createQueue } from '../aws/read-back.js';
import { createSqsSource } from '../../packet-source/sqs/index.js';
import type { PacketSource } from '../../gateway/extension/packet-source.js';
import { sendPackets, sendReplies } from '../../packet-source/publisher/index.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';
import { createHarness, createUdpClient, quiet, type Harness, type UdpClient } from './harness.js';

let moto: Moto;
let sqs: SQSClient;
let sns: SNSClient;
let h: Harness;
let client: UdpClient;
let poller: PacketSource | undefined;

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
  sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => { sqs?.destroy(); sns?.destroy(); await moto?.stop(); });
beforeEach(async () => { h = await createHarness(); client = await createUdpClient(); });
afterEach(async () => { await poller?.close(); poller = undefined; await client.close(); await h.close(); });

async function startPoller(queueUrl: string, waitTimeSeconds = 1): Promise<PacketSource> {
  poller = createSqsSource('queue', { queueUrl, waitTimeSeconds, maxMessages: 10, visibilityTimeout: 60, maxRememberedMessageIds: 100 }, h.ctx, { client: sqs });
  await poller.start();
  return poller;
}

const outcome = (o: string) => counterValue(sourceMetrics(h.metrics).messages, { source: 'queue', outcome: o });

async function queueCounts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes: a } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(a!.ApproximateNumberOfMessages), inFlight: Number(a!.ApproximateNumberOfMessagesNotVisible) };
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) { if (await check()) return; await new Promise((r) => setTimeout(r, 50)); }
  throw new Error('condition not met within 5 s');
}

describe('sqs packet source with moto_server', () => {
  it('sends published packets from the listener port and deletes the message', async () => {
    const q = await createQueue(sqs, 'oob');
    await client.hello(h);
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'queued-push' }], { client: sqs });
    await startPoller(q.url);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('queued-push');
    expect(got!.rinfo.port).toBe(h.listenerPort);
    await eventually(async () => (await outcome('delivered')) === 1);
    await eventually(async () => { const c = await queueCounts(q.url); return c.visible === 0 && c.inFlight === 0; });
  });

  it('sends async replies by tag', async () => {
    const q = await createQueue(sqs, 'oob');
    const tag = h.codec.encode('edge', { address: '127.0.0.1', port: client.port }, Date.now());
    await sendReplies({ queueUrl: q.url }, [{ tag, data: 'late-reply' }], { client: sqs });
    await startPoller(q.url);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('late-reply');
  });

  it('leaves malformed and refused messages on the queue, counted', async () => {
    const q = await createQueue(sqs, 'oob');
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'not json' }));
    // Never seen by the listener, not in egress.allow: refused by the address policy.
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'unsolicited' }], { client: sqs });
    await startPoller(q.url);
    await eventually(async () => (await outcome('malformed')) === 1 && (await outcome('refused')) === 1);
    await poller!.close();
    expect(await queueCounts(q.url)).toEqual({ visible: 0, inFlight: 2 }); // received, not deleted
    expect(await counterValue(h.metrics.egressRefused, { path: 'out_of_band', reason: 'address-refused' })).toBe(1);
    expect(client.inbox).toHaveLength(0);
  });

  it('drops an expired packet (counted) and deletes its message', async () => {
    const q = await createQueue(sqs, 'oob');
    await client.hello(h);
    await sendPackets({ queueUrl: q.url }, [
      { address: '127.0.0.1', port: client.port, data: 'too-late', expiresAt: new Date(Date.now() - 60_000) },
      { address: '127.0.0.1', port: client.port, data: 'in-time', ttlSeconds: 300 },
    ], { client: sqs, batchSize: 1 });
    await startPoller(q.url);
    await client.next();
    await eventually(async () => (await outcome('expired')) === 1 && (await outcome('delivered')) === 1);
    await quiet();
    expect(client.inbox.map((p) => p.data.toString())).toEqual(['in-time']);
    expect(await counterValue(h.metrics.egressRefused, { path: 'out_of_band', reason: 'expired' })).toBe(1);
    await eventually(async () => { const c = await queueCounts(q.url); return c.visible === 0 && c.inFlight === 0; });
  });

  it('unwraps SNS envelopes from an SNS → SQS subscription', async () => {
    const q = await createQueue(sqs, 'oob');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `to-queue-${Date.now()}` }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn }));
    await client.hello(h);
    await sendPackets({ topicArn: TopicArn! }, [{ address: '127.0.0.1', port: client.port, data: 'via-topic' }], { client: sns });
    await startPoller(q.url);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('via-topic');
  });

  it('close() aborts an in-flight 20 s long poll', async () => {
    const q = await createQueue(sqs, 'idle');
    const p = await startPoller(q.url, 20);
    await quiet(300); // the long poll is in flight
    const closed = await Promise.race([p.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still polling'), 10_000))]);
    expect(closed).toBe('closed');
    expect(p.status!()).toMatchObject({ running: false });
    poller = undefined;
  });
});

describe('sqs packet source resilience', () => {
  it('counts receive errors, backs off, and stops on close', async () => {
    const broken = new SQSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1' });
    poller = createSqsSource('queue', { queueUrl: 'http://127.0.0.1:9/000000000000/missing', waitTimeSeconds: 1, maxMessages: 10, maxRememberedMessageIds: 10 }, h.ctx, { client: broken });
    await poller.start();
    await eventually(async () => (await outcome('receive-error')) >= 1);
    await poller.close();
    poller = undefined;
    broken.destroy();
  });
});
