/**
 * API calls per 100,000 packets for each AWS kind, against the fewest its service allows, with the
 * kinds' default batch settings (or `--batch '{"maxPackets":100,"lingerMs":5}'` to compare others).
 * Each kind runs in a real gateway (createGateway, its runner, batcher and limits) whose destination
 * talks to moto_server through a counting HTTP proxy; packets are offered at a steady rate
 * (`--rate`, default 20,000/s) straight to the destination's runner, so the figures are the batching
 * policy's, not the UDP socket's. Every loop is bounded (packets, and --timeout per kind).
 *
 *   node --import tsx bench/aws-calls.ts [--packets 100000] [--rate 20000] [--kinds kinesis,sqs] [--batch JSON]
 */
import { parseArgs } from 'node:util';
import { createServer, request, type Server } from 'node:http';
import { pino } from 'pino';
import { SQSClient, CreateQueueCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { SNSClient, CreateTopicCommand } from '@aws-sdk/client-sns';
import { KinesisClient, CreateStreamCommand } from '@aws-sdk/client-kinesis';
import { FirehoseClient, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startMoto } from '../test/aws/moto.js';
import { resolveConfig } from '../app/config/load.js';
import { createGateway } from '../app/gateway.js';
import { dgramTransport } from '../net/dgram.js';
import type { Packet } from '../gateway/packet.js';

const { values } = parseArgs({ options: {
  packets: { type: 'string', default: '100000' }, rate: { type: 'string', default: '20000' }, size: { type: 'string', default: '100' },
  kinds: { type: 'string' }, batch: { type: 'string' }, timeout: { type: 'string', default: '600' },
} });
const N = Number(values.packets);
const RATE = Number(values.rate);
const SIZE = Number(values.size);
const region = 'us-east-1';

/** Per kind: the data-plane operation counted, and what to create in moto. */
interface Bench {
  op: string;
  setup(moto: string, proxy: string): Promise<Record<string, unknown>>;
  /** Called every second, straight to moto (not counted): keeps moto fast where it slows as data piles up. */
  tidy?(moto: string, options: Record<string, unknown>): Promise<void>;
}
const ep = (endpoint: string) => ({ endpoint, region });
const KINDS: Record<string, Bench> = {
  sqs: { op: 'SendMessageBatch', async setup(moto, proxy) {
    const { QueueUrl } = await new SQSClient(ep(moto)).send(new CreateQueueCommand({ QueueName: `bench-${Date.now()}` }));
    return { queueUrl: QueueUrl!.replace(/^https?:\/\/[^/]+/, proxy) };
  },
  // moto's SendMessageBatch slows down as a queue fills (5,000 messages: about a second a call).
  async tidy(moto, o) { await new SQSClient(ep(moto)).send(new PurgeQueueCommand({ QueueUrl: String(o.queueUrl).replace(/^https?:\/\/[^/]+/, moto) })); } },
  sns: { op: 'PublishBatch', async setup(moto) {
    const { TopicArn } = await new SNSClient(ep(moto)).send(new CreateTopicCommand({ Name: `bench-${Date.now()}` }));
    return { topicArn: TopicArn };
  } },
  eventbridge: { op: 'PutEvents', setup: async () => ({}) },
  kinesis: { op: 'PutRecords', async setup(moto) {
    const streamName = `bench-${Date.now()}`;
    await new KinesisClient({ ...ep(moto), requestHandler: new NodeHttpHandler() }).send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 4 }));
    return { streamName };
  } },
  firehose: { op: 'PutRecordBatch', async setup(moto) {
    const bucket = `bench-fh-${Date.now()}`;
    await new S3Client({ ...ep(moto), forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucket }));
    const deliveryStreamName = `bench-${Date.now()}`;
    await new FirehoseClient(ep(moto)).send(new CreateDeliveryStreamCommand({ DeliveryStreamName: deliveryStreamName,
      ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${bucket}`, RoleARN: 'arn:aws:iam::123456789012:role/firehose' } }));
    return { deliveryStreamName };
  } },
  'cloudwatch-logs': { op: 'PutLogEvents', async setup(moto) {
    const logs = new CloudWatchLogsClient(ep(moto));
    const logGroupName = `bench-${Date.now()}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 's' }));
    return { logGroupName, logStreamName: 's' };
  } },
  dynamodb: { op: 'BatchWriteItem', async setup(moto) {
    const tableName = `bench-${Date.now()}`;
    await new DynamoDBClient(ep(moto)).send(new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }] }));
    return { tableName };
  } },
  // No per-call count limit; one object per batch: the fewest objects hold 8 MiB each (the default cap).
  s3: { op: 'PutObject', async setup(moto) {
    const bucket = `bench-s3-${Date.now()}`;
    await new S3Client({ ...ep(moto), forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucket }));
    return { bucket };
  } },
};

/** An HTTP proxy in front of moto that counts requests by operation (X-Amz-Target, Action=, or S3 PUT). */
async function countingProxy(target: string): Promise<{ endpoint: string; counts: Map<string, number>; close(): Promise<void> }> {
  const t = new URL(target);
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers['x-amz-target'];
      const op = typeof amzTarget === 'string' ? amzTarget.split('.').pop()!
        : /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString('latin1'))?.[1] ?? (req.method === 'PUT' ? 'PutObject' : `${req.method}`);
      counts.set(op, (counts.get(op) ?? 0) + 1);
      if (process.env.BENCH_DEBUG) console.error(new Date().toISOString(), req.method, req.url, op, req.headers['content-length']);
      const fwd = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => { res.writeHead(502); res.end(); });
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, counts,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function counterTotal(c: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}

async function run(kind: string, motoEndpoint: string): Promise<Record<string, string | number>> {
  const b = KINDS[kind]!;
  const proxy = await countingProxy(motoEndpoint);
  try {
    const options = await b.setup(motoEndpoint, proxy.endpoint);
    const batch = values.batch ? { batch: JSON.parse(values.batch) as object } : {};
    const cfg = resolveConfig({ secret: 'aws-calls-bench-secret-0123456789', admin: { enabled: false }, listeners: [{ name: 'bench', port: 0,
      destinations: [{ type: kind, endpoint: proxy.endpoint, region, ...options, queue: { maxPackets: N }, ...batch }] }] }, '/tmp');
    const dc = cfg.listeners[0]!.destinations[0]!;
    const gw = await createGateway(cfg, { logger: pino({ level: 'warn' }), transport: dgramTransport });
    const runner = gw.runners[0]!;
    const data = Buffer.alloc(SIZE, 0x61);
    const remote = { address: '127.0.0.1', port: 40000 };
    const started = Date.now();
    let tidying = Promise.resolve();
    const tidy = b.tidy ? setInterval(() => { tidying = tidying.then(() => b.tidy!(motoEndpoint, options)).catch(() => undefined); }, 1_000) : undefined;
    let offered = 0;
    const perTick = Math.max(1, Math.round(RATE / 100));
    while (offered < N) { // bounded: N packets, one tick per 10 ms
      const n = Math.min(perTick, N - offered);
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        const p: Packet = { tag: gw.codec.encode('bench', { address: remote.address, port: remote.port + ((offered + i) % 1000) }, now), listener: 'bench', remote, local: { address: '127.0.0.1', port: 1 }, receivedAt: now, data, formatter: 'base64' };
        runner.enqueue(p);
      }
      offered += n;
      await new Promise((r) => setTimeout(r, 10));
    }
    const deadline = Date.now() + Number(values.timeout) * 1000;
    let done = 0;
    while ((done = (await counterTotal(gw.metrics.delivered)) + (await counterTotal(gw.metrics.failed))) < N && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - started) / 1000;
    clearInterval(tidy);
    await tidying;
    await gw.shutdown(5_000);
    const calls = proxy.counts.get(b.op) ?? 0;
    // The fewest calls the service allows: its entries per call, and its bytes per call as it counts
    // them (the destination's declared limits; S3 has neither, so its 8 MiB default objects).
    const limits = runner.destination.limits ?? {};
    const sample: Packet = { tag: gw.codec.encode('bench', remote, Date.now()), listener: 'bench', remote, local: { address: '127.0.0.1', port: 1 }, receivedAt: Date.now(), data, formatter: 'base64' };
    const entryBytes = limits.packetBytes?.(sample) ?? data.length;
    const perCallBytes = kind === 's3' ? 8 * 1024 * 1024 : limits.maxBatchBytes ?? Infinity;
    const minimum = Math.max(Math.ceil(N / (limits.maxBatchPackets ?? Infinity)), Math.ceil((N * entryBytes) / perCallBytes));
    return {
      kind, op: b.op, batch: `${dc.batch.maxPackets} / ${dc.batch.lingerMs} ms`, delivered: await counterTotal(gw.metrics.delivered),
      calls, minimum, entryBytes, ratio: (calls / minimum).toFixed(2), seconds: seconds.toFixed(1), done: done >= N ? 'yes' : 'TIMEOUT',
    };
  } finally {
    await proxy.close();
  }
}

const moto = await startMoto();
try {
  const kinds = values.kinds ? values.kinds.split(',') : Object.keys(KINDS);
  const rows: Record<string, string | number>[] = [];
  for (const k of kinds) {
    const row = await run(k, moto.endpoint);
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  console.log(`\n${N.toLocaleString('en')} packets of ${SIZE} B offered at ${RATE.toLocaleString('en')}/s${values.batch ? `, batch ${values.batch}` : ', default batch settings'}\n`);
  console.log('| kind | API call | batch (maxPackets / linger) | bytes per entry | calls | minimum | calls / minimum |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.kind} | ${r.op} | ${r.batch} | ${r.entryBytes} | ${Number(r.calls).toLocaleString('en')} | ${Number(r.minimum).toLocaleString('en')} | ${r.ratio}${r.done === 'yes' ? '' : ' (timed out)'} |`);
} finally {
  await moto.stop();
}
