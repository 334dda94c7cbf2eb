import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, type Moto } from './moto.js';
import { createQueue, dataOfEventJson, receiveBodies, sqsClient } from './read-back.js';
import { destinationContract } from '../contract/destination-contract.js';
import { createSqsDestination } from '../../destinations/sqs/index.js';
import { withLimits } from '../../gateway/fanout/limits.js';
import { makePacket } from '../contract/packets.js';

let moto: Moto;
let sqs: SQSClient;
beforeAll(async () => { moto = await startMoto(); sqs = sqsClient(moto.endpoint); });
afterAll(async () => { sqs?.destroy(); await moto?.stop(); });

const base = { body: 'json' as const, maxMessageBytes: 262_144 };

destinationContract('sqs (standard queue, json body)', async () => {
  const q = await createQueue(sqs, 'contract');
  return {
    destination: createSqsDestination('sqs', { ...base, queueUrl: q.url, endpoint: moto.endpoint }),
    readBack: async (n) => (await receiveBodies(sqs, q.url, n)).map(dataOfEventJson),
    broken: () => createSqsDestination('sqs', { ...base, queueUrl: `${moto.endpoint}/000000000000/missing`, endpoint: moto.endpoint }),
  };
});

destinationContract('sqs (FIFO queue, raw body)', async () => {
  const q = await createQueue(sqs, 'contract', true);
  return {
    destination: createSqsDestination('sqs', { ...base, body: 'raw', queueUrl: q.url, endpoint: moto.endpoint }),
    ordered: true,
    readBack: async (n) => (await receiveBodies(sqs, q.url, n)).map((b) => Buffer.from(b, 'base64')),
    broken: () => createSqsDestination('sqs', { ...base, queueUrl: q.url, endpoint: 'http://127.0.0.1:9' }),
  };
});

describe('sqs', () => {
  it('uses AWS_ENDPOINT_URL_SQS when no endpoint option is given', async () => {
    const q = await createQueue(sqs, 'env');
    process.env.AWS_ENDPOINT_URL_SQS = moto.endpoint;
    try {
      const d = createSqsDestination('sqs', { ...base, queueUrl: q.url });
      const p = makePacket(Buffer.from('via env'));
      const r = await d.sendBatch([p], new AbortController().signal);
      await d.close!();
      expect(r.outcomes).toEqual([{ status: 'delivered' }]);
      const [body] = await receiveBodies(sqs, q.url, 1);
      expect(JSON.parse(body!)).toMatchObject({ Tag: p.tag, Data: Buffer.from('via env').toString('base64'), Local: { Domain: 'edge' } });
    } finally {
      delete process.env.AWS_ENDPOINT_URL_SQS;
    }
  });

  it('refuses a packet over the message limit as oversize, sends the rest', async () => {
    const q = await createQueue(sqs, 'oversize');
    // The limit is the destination's; the core enforces it (the runner's batcher, or withLimits for a direct call).
    const d = withLimits(createSqsDestination('sqs', { ...base, body: 'raw', maxMessageBytes: 1_024, queueUrl: q.url, endpoint: moto.endpoint }));
    expect(d.limits!.packetBytes!(makePacket(Buffer.alloc(768)))).toBe(1_024); // base64 of 768 bytes
    const r = await d.sendBatch([makePacket(Buffer.alloc(800)), makePacket(Buffer.from('ok'))], new AbortController().signal);
    await d.close!();
    expect(r.outcomes).toEqual([{ status: 'failed', reason: 'oversize' }, { status: 'delivered' }]);
  });

  it('sets the FIFO message group from the expression', async () => {
    const q = await createQueue(sqs, 'group', true);
    const d = createSqsDestination('sqs', { ...base, queueUrl: q.url, endpoint: moto.endpoint, messageGroupId: 'g-${data[0:2]:hex}' });
    await d.sendBatch([makePacket(Buffer.from([0xab, 0xcd, 0xef]))], new AbortController().signal);
    await d.close!();
    const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, MessageSystemAttributeNames: ['MessageGroupId'], MaxNumberOfMessages: 1 }));
    expect(r.Messages?.[0]?.Attributes?.MessageGroupId).toBe('g-abcd');
  });
});
