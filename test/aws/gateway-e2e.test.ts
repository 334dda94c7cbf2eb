/** AWS destinations through createGateway: a real UDP client, moto_server behind sqs, and the
 *  core's SQS dead-letter (destinations/aws/sqs-dead-letter.ts) after a final failure. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import '../../app/builtin-kinds.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { UdpClient } from '../support/udp-client.js';
import { startMoto, type Moto } from './moto.js';
import { createQueue, dataOfEventJson, receiveBodies, sqsClient } from './read-back.js';

let moto: Moto;
let sqs: SQSClient;
beforeAll(async () => { moto = await startMoto(); sqs = sqsClient(moto.endpoint); });
afterAll(async () => { sqs?.destroy(); await moto?.stop(); });

describe('AWS destinations through the gateway', () => {
  it('delivers a datagram to SQS, and dead-letters it to SQS when its destination fails', async () => {
    const q = await createQueue(sqs, 'e2e');
    const dlq = await createQueue(sqs, 'e2e-dlq');
    const cfg = resolveConfig({
      secret: 'e2e-secret-0123456789abcdef',
      admin: { enabled: false },
      listeners: [{
        name: 'edge', host: '127.0.0.1', port: 0,
        destinations: [
          { name: 'queue', type: 'sqs', queueUrl: q.url, endpoint: moto.endpoint, batch: { lingerMs: 0 } },
          {
            name: 'broken', type: 'sqs', queueUrl: `${moto.endpoint}/123456789012/does-not-exist`, endpoint: moto.endpoint,
            batch: { lingerMs: 0 }, retry: { maxAttempts: 1 }, deadLetter: { sqsQueueUrl: dlq.url, endpoint: moto.endpoint },
          },
        ],
      }],
    }, process.cwd());
    const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }) });
    const client = await UdpClient.open();
    try {
      await client.send(Buffer.from([0x00, 0xc3, 0x28, 0xff]), gw.address().port);
      const [body] = await receiveBodies(sqs, q.url, 1);
      expect(dataOfEventJson(body!).toString('hex')).toBe('00c328ff');
      const [dead] = await receiveBodies(sqs, dlq.url, 1);
      const d = JSON.parse(dead!) as { Data: string; Reason: string; Remote: { Port: number } };
      expect(Buffer.from(d.Data, 'base64').toString('hex')).toBe('00c328ff');
      expect(d.Remote.Port).toBe(client.port);
      expect(d.Reason).toMatch(/NonExistentQueue|does not exist/i);
    } finally {
      await client.close();
      await gw.close();
    }
  });
});
