/** kinesis, firehose, s3, dynamodb, cloudwatch-logs against one moto_server: contract + read-back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisClient, CreateStreamCommand, GetShardIteratorCommand, GetRecordsCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { FirehoseClient, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { S3Client, CreateBucketCommand, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient, CreateTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startMoto, type Moto } from './moto.js';
import { dataOfEventJson } from './read-back.js';
import { destinationContract } from '../contract/destination-contract.js';
import { makePacket } from '../contract/packets.js';
import { createKinesisDestination } from '../../destinations/kinesis/index.js';
import { createFirehoseDestination } from '../../destinations/firehose/index.js';
import { createS3Destination } from '../../destinations/s3/index.js';
import { createDynamoDbDestination } from '../../destinations/dynamodb/index.js';
import { createCloudWatchLogsDestination } from '../../destinations/cloudwatch-logs/index.js';
import { awsClientConfig } from '../../aws/client-config.js';

let moto: Moto;
let seq = 0;
const unique = (p: string) => `${p}-${++seq}-${Date.now()}`;
const region = 'us-east-1';
beforeAll(async () => { moto = await startMoto(); });
afterAll(async () => { await moto?.stop(); });
const ep = () => ({ endpoint: moto.endpoint, region });

async function kinesisRecords(k: KinesisClient, streamName: string): Promise<Buffer[]> {
  const shards = await k.send(new ListShardsCommand({ StreamName: streamName }));
  const out: Buffer[] = [];
  for (const s of shards.Shards ?? []) {
    const it = await k.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const r = await k.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
    out.push(...(r.Records ?? []).map((x) => Buffer.from(x.Data!)));
  }
  return out;
}

async function s3Lines(s3: S3Client, bucket: string): Promise<string[]> {
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const lines: string[] = [];
  for (const o of list.Contents ?? []) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }))).Body!.transformToString();
    lines.push(...body.split('\n').filter((l) => l.length > 0));
  }
  return lines;
}

destinationContract('kinesis (json body)', async () => {
  const k = new KinesisClient({ ...ep(), requestHandler: new NodeHttpHandler() }); // this SDK version defaults Kinesis to HTTP/2
  const streamName = unique('stream');
  await k.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
  return {
    destination: createKinesisDestination('kinesis', { ...ep(), streamName, partitionKey: '${remote.address}', body: 'json' }),
    ordered: true,
    readBack: async () => (await kinesisRecords(k, streamName)).map((b) => dataOfEventJson(b.toString())),
    broken: () => createKinesisDestination('kinesis', { ...ep(), streamName: 'missing', partitionKey: '${tag}', body: 'json' }),
    teardown: async () => k.destroy(),
  };
});

destinationContract('firehose (NDJSON to an S3 bucket)', async () => {
  const s3 = new S3Client({ ...ep(), forcePathStyle: true });
  const fh = new FirehoseClient(ep());
  const bucket = unique('fh-bucket');
  const deliveryStreamName = unique('fh');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await fh.send(new CreateDeliveryStreamCommand({
    DeliveryStreamName: deliveryStreamName,
    ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${bucket}`, RoleARN: 'arn:aws:iam::123456789012:role/firehose' },
  }));
  return {
    destination: createFirehoseDestination('firehose', { ...ep(), deliveryStreamName }),
    readBack: async () => (await s3Lines(s3, bucket)).map(dataOfEventJson),
    broken: () => createFirehoseDestination('firehose', { ...ep(), deliveryStreamName: 'missing' }),
    teardown: async () => { s3.destroy(); fh.destroy(); },
  };
});

destinationContract('s3 (one NDJSON object per batch)', async () => {
  const s3 = new S3Client({ ...ep(), forcePathStyle: true });
  const bucket = unique('bucket');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    destination: createS3Destination('s3', { ...ep(), bucket, prefix: 'udp-gateway/' }),
    ordered: true,
    readBack: async () => (await s3Lines(s3, bucket)).map(dataOfEventJson),
    broken: () => createS3Destination('s3', { ...ep(), bucket: 'missing-bucket', prefix: 'x/' }),
    teardown: async () => s3.destroy(),
  };
});

destinationContract('dynamodb (one item per packet)', async () => {
  const db = new DynamoDBClient(ep());
  const tableName = unique('table');
  await db.send(new CreateTableCommand({
    TableName: tableName, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  }));
  return {
    destination: createDynamoDbDestination('dynamodb', { ...ep(), tableName, partitionKeyAttribute: 'pk', partitionKey: '${tag}' }),
    readBack: async () => ((await db.send(new ScanCommand({ TableName: tableName }))).Items ?? []).map((i) => Buffer.from(i.data!.B!)),
    broken: () => createDynamoDbDestination('dynamodb', { ...ep(), tableName: 'missing', partitionKeyAttribute: 'pk', partitionKey: '${tag}' }),
    teardown: async () => db.destroy(),
  };
});

destinationContract('cloudwatch-logs (raw body)', async () => {
  const logs = new CloudWatchLogsClient(ep());
  const logGroupName = unique('group');
  await logs.send(new CreateLogGroupCommand({ logGroupName }));
  await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 's' }));
  return {
    destination: createCloudWatchLogsDestination('logs', { ...ep(), logGroupName, logStreamName: 's', createIfMissing: false, body: 'raw' }),
    ordered: true,
    readBack: async () => ((await logs.send(new GetLogEventsCommand({ logGroupName, logStreamName: 's', startFromHead: true }))).events ?? [])
      .map((e) => Buffer.from(e.message!, 'base64')),
    broken: () => createCloudWatchLogsDestination('logs', { ...ep(), logGroupName: 'missing', logStreamName: 's', createIfMissing: false, body: 'raw' }),
    teardown: async () => logs.destroy(),
  };
});

describe('AWS destinations against moto', () => {
  it('kinesis honours AWS_ENDPOINT_URL (no endpoint option) over HTTP/1.1 keep-alive', async () => {
    const k = new KinesisClient({ ...ep(), requestHandler: new NodeHttpHandler() }); // this SDK version defaults Kinesis to HTTP/2
    const streamName = unique('env');
    await k.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
    try {
      const d = createKinesisDestination('kinesis', { streamName, partitionKey: 'k-${data[0:1]:hex}', body: 'raw' });
      const r = await d.sendBatch([makePacket(Buffer.from([7, 8, 9]))], new AbortController().signal);
      await d.close!();
      expect(r.outcomes).toEqual([{ status: 'delivered' }]);
      expect((await kinesisRecords(k, streamName)).map((b) => b.toString('hex'))).toEqual(['070809']);
    } finally {
      delete process.env.AWS_ENDPOINT_URL;
      k.destroy();
    }
    const cfg = awsClientConfig({});
    expect(cfg.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(Object.keys(cfg)).not.toContain('endpoint');
  });

  it('cloudwatch-logs creates a missing log stream when createIfMissing is true, in time order', async () => {
    const logs = new CloudWatchLogsClient(ep());
    const logGroupName = unique('create');
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    const d = createCloudWatchLogsDestination('logs', { ...ep(), logGroupName, logStreamName: 'new', createIfMissing: true, body: 'json' });
    const now = Date.now();
    const late = makePacket(Buffer.from('second'), { receivedAt: now });
    const early = makePacket(Buffer.from('first'), { receivedAt: now - 1_000 });
    const r = await d.sendBatch([late, early], new AbortController().signal);
    await d.close!();
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered']);
    const ev = (await logs.send(new GetLogEventsCommand({ logGroupName, logStreamName: 'new', startFromHead: true }))).events ?? [];
    expect(ev.map((e) => dataOfEventJson(e.message!).toString())).toEqual(['first', 'second']);
    logs.destroy();
  });

  it('s3 writes under <prefix>YYYY/MM/DD/HH/<listener>-', async () => {
    const s3 = new S3Client({ ...ep(), forcePathStyle: true });
    const bucket = unique('keys');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const d = createS3Destination('s3', { ...ep(), bucket, prefix: 'p/' });
    await d.sendBatch([makePacket(Buffer.from('x'), { receivedAt: Date.UTC(2026, 10, 21, 14, 23, 1, 412) })], new AbortController().signal);
    await d.close!();
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^p\/2026\/11\/21\/14\/edge-2026-11-21T142301\.412Z-[0-9a-f-]{36}\.ndjson$/);
    s3.destroy();
  });
});
