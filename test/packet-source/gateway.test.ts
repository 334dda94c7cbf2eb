/**
 * Packet sources through the real gateway (createGateway from config): a UDP client is seen by a listener,
 * then packets published to SNS (moto POSTs to the sns-http endpoint) and to SQS (the poller) reach it
 * from the listener's port. moto's certificate URL is not reachable from the gateway, so the sns-http source
 * runs with verifySignatures: false here (signatures are verified against moto in moto-sns.test.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import '../support/memory-destination.js';
import { UdpClient } from '../support/udp-client.js';
import { startMoto, type Moto } from '../aws/moto.js';
import { createQueue } from '../aws/read-back.js';
import { resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { sendPackets } from '../../packet-source/publisher/index.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';

const log = pino({ level: 'silent' });
let moto: Moto;
let sns: SNSClient;
let sqs: SQSClient;
let open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  moto = await startMoto();
  sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
  sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => { sns?.destroy(); sqs?.destroy(); await moto?.stop(); });
afterEach(async () => { for (const o of open.splice(0)) await o.close(); });

const edge = { name: 'edge', host: '127.0.0.1', port: 0, destinations: [{ type: 'memory', name: 'rec', prefix: 'ps-' }] };

describe('packet sources through createGateway', () => {
  it('SNS and SQS packets reach a seen client from the listener port', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `gw-${Date.now()}` }));
    const q = await createQueue(sqs, 'gw');
    const gw: Gateway = await createGateway(resolveConfig({
      secret: 'test-secret-0123456789abcdef', shutdownDeadlineMs: 1000, listeners: [edge],
      packetSources: [
        { name: 'sns', type: 'sns-http', host: '127.0.0.1', port: 0, topicArns: [TopicArn], verifySignatures: false },
        { name: 'queue', type: 'sqs', queueUrl: q.url, endpoint: moto.endpoint, region: 'us-east-1', waitTimeSeconds: 1 },
      ],
    }, '/tmp'), { logger: log });
    open.push(gw);
    const snsPort = (gw.status().packetSources as { name: string; port?: number }[]).find((s) => s.name === 'sns')!.port!;
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `http://127.0.0.1:${snsPort}/sns` }));

    const c = await UdpClient.open();
    open.push(c);
    const port = gw.address().port;
    await c.send('hello', port);
    const seen = async () => (await counterValue(gw.metrics.packetsIn, { listener: 'edge' })) >= 1;
    for (let i = 0; i < 100 && !(await seen()); i++) await new Promise((r) => setTimeout(r, 20));

    await sendPackets({ topicArn: TopicArn! }, [{ address: '127.0.0.1', port: c.port, data: 'via-sns' }], { client: sns });
    const [a] = await c.waitFor(1);
    expect(a!.data.toString()).toBe('via-sns');
    expect(a!.port).toBe(port);

    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: c.port, data: 'via-sqs' }], { client: sqs });
    const [, b] = await c.waitFor(2);
    expect(b!.data.toString()).toBe('via-sqs');
    expect(b!.port).toBe(port);
    const m = sourceMetrics(gw.metrics);
    expect(await counterValue(m.messages, { source: 'sns', outcome: 'delivered' })).toBe(1);
    expect(await counterValue(m.packets, { source: 'queue', result: 'sent' })).toBe(1);
  });

  it('config validation refuses options past the service limits, with their paths', () => {
    const bad = () => resolveConfig({
      listeners: [edge],
      packetSources: [{ type: 'sqs', queueUrl: 'http://127.0.0.1:1/q', waitTimeSeconds: 30, maxMessages: 11 }, { type: 'sns-http', port: 0, topicArns: [] }],
    }, '/tmp');
    expect(bad).toThrow(ConfigError);
    try { bad(); } catch (err) {
      const paths = (err as ConfigError).problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['/packetSources/0/waitTimeSeconds', '/packetSources/0/maxMessages', '/packetSources/1/topicArns']));
    }
  });
});
