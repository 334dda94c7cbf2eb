/** sns, eventbridge, lambda, stepfunctions (STANDARD) and the SQS dead-letter against one moto_server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { SFNClient, CreateStateMachineCommand, ListExecutionsCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { startMoto, type Moto } from './moto.js';
import { createMotoRole } from './moto-api.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { createQueue, dataOfEventJson, receiveBodies, sqsClient } from './read-back.js';
import { destinationContract } from '../contract/destination-contract.js';
import { makePacket } from '../contract/packets.js';
import { createSnsDestination } from '../../destinations/sns/index.js';
import { createEventBridgeDestination } from '../../destinations/eventbridge/index.js';
import { createLambdaDestination } from '../../destinations/lambda/index.js';
import { createStepFunctionsDestination } from '../../destinations/stepfunctions/index.js';
import { createSqsDestination } from '../../destinations/sqs/index.js';
import { createDeadLetter } from '../../gateway/fanout/dead-letter.js';
import type { GatewayEvent } from '../../gateway/wire/event.js';
import { pino } from 'pino';

let moto: Moto;
let sqs: SQSClient;
let roleArn: string;
let seq = 0;
const unique = (p: string) => `${p}-${++seq}-${Date.now()}`;
const region = 'us-east-1';
const ep = () => ({ endpoint: moto.endpoint, region });
const logger = pino({ level: 'silent' });
const noClients = { replyByTag: () => false, sendToClient: () => undefined };

beforeAll(async () => {
  moto = await startMoto();
  sqs = sqsClient(moto.endpoint);
  await moto.api('/moto-api/config', { lambda: { use_docker: false } });
  roleArn = await createMotoRole(moto.endpoint, 'gateway-test');
});
afterAll(async () => { sqs?.destroy(); await moto?.stop(); });

const eventData = (body: Buffer) => (JSON.parse(body.toString()) as GatewayEvent).Messages.map((m) => Buffer.from(m.Data, 'base64'));

destinationContract('sns (topic → SQS subscription, raw delivery)', async () => {
  const sns = new SNSClient(ep());
  const q = await createQueue(sqs, 'sns-sub');
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: unique('topic') }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn, Attributes: { RawMessageDelivery: 'true' } }));
  return {
    destination: createSnsDestination('sns', { ...ep(), topicArn: TopicArn!, body: 'json' }),
    readBack: async (n) => (await receiveBodies(sqs, q.url, n)).map(dataOfEventJson),
    broken: () => createSnsDestination('sns', { ...ep(), topicArn: 'arn:aws:sns:us-east-1:123456789012:missing', body: 'json' }),
    teardown: async () => sns.destroy(),
  };
});

destinationContract('eventbridge (rule → SQS target)', async () => {
  const events = new EventBridgeClient(ep());
  const q = await createQueue(sqs, 'eb-target');
  const source = unique('udp-gateway.test');
  const rule = unique('rule');
  await events.send(new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify({ source: [source] }) }));
  await events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'q', Arn: q.arn }] }));
  return {
    destination: createEventBridgeDestination('eb', { ...ep(), source, detailType: 'UDP Packet' }),
    readBack: async (n) => (await receiveBodies(sqs, q.url, n)).map((b) => dataOfEventJson(JSON.stringify((JSON.parse(b) as { detail: unknown }).detail))),
    broken: () => createEventBridgeDestination('eb', { ...ep(), source, detailType: 'UDP Packet', endpoint: 'http://127.0.0.1:9' }),
    teardown: async () => events.destroy(),
  };
});

let proxy: RecordingProxy | undefined;
destinationContract('lambda (RequestResponse; payload recorded on the wire)', async () => {
  const lambda = new LambdaClient(ep());
  const functionName = unique('fn');
  await lambda.send(new CreateFunctionCommand({
    FunctionName: functionName, Runtime: 'nodejs20.x', Role: roleArn, Handler: 'index.handler', Code: { ZipFile: Buffer.from('not used by moto simple lambda') },
  }));
  proxy = await startRecordingProxy(moto.endpoint, /\/functions\/[^/]+\/invocations/);
  const p = proxy;
  return {
    destination: createLambdaDestination('lambda', { endpoint: p.endpoint, region, functionName, invocation: 'RequestResponse' }, { logger, clients: noClients }),
    readBack: async () => p.bodies.flatMap(eventData),
    // moto's simple Lambda answers for any function name, so the service error here is a refused connection.
    broken: () => createLambdaDestination('lambda', { region, endpoint: 'http://127.0.0.1:9', functionName, invocation: 'RequestResponse' }, { logger, clients: noClients }),
    teardown: async () => { lambda.destroy(); await p.close(); },
  };
});

destinationContract('stepfunctions (STANDARD)', async () => {
  const sfn = new SFNClient(ep());
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({
    name: unique('sm'), roleArn, definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
  }));
  return {
    destination: createStepFunctionsDestination('sfn', { ...ep(), stateMachineArn: stateMachineArn!, executionType: 'STANDARD' }, { logger }),
    readBack: async () => {
      const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
      const out: Buffer[] = [];
      for (const e of list.executions ?? []) {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
        out.push(...eventData(Buffer.from(d.input ?? '{"Messages":[]}')));
      }
      return out;
    },
    broken: () => createStepFunctionsDestination('sfn', { ...ep(), stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:missing', executionType: 'STANDARD' }, { logger }),
    teardown: async () => sfn.destroy(),
  };
});

describe('lambda replies and the SQS dead-letter against moto', () => {
  it('returns the function\'s Replies (moto simple Lambda) decoded with each packet\'s formatter', async () => {
    const lambda = new LambdaClient(ep());
    const functionName = unique('replies');
    await lambda.send(new CreateFunctionCommand({ FunctionName: functionName, Runtime: 'nodejs20.x', Role: roleArn, Handler: 'index.handler', Code: { ZipFile: Buffer.from('x') } }));
    lambda.destroy();
    const hexPacket = makePacket(Buffer.from('ping'), { formatter: 'hex' });
    const b64Packet = makePacket(Buffer.from('pong'));
    const answer = { Replies: [{ Tag: hexPacket.tag, Data: 'cafe' }, { Tag: b64Packet.tag, Data: Buffer.from([1, 2, 3]).toString('base64') }, { Data: 'no tag' }] };
    await moto.api('/moto-api/static/lambda-simple/response', { results: [JSON.stringify(answer)], region });
    const d = createLambdaDestination('lambda', { ...ep(), functionName, invocation: 'RequestResponse' }, { logger, clients: noClients });
    const r = await d.sendBatch([hexPacket, b64Packet], new AbortController().signal);
    await d.close!();
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered']);
    expect(r.replies?.map((x) => [x.tag, x.data.toString('hex')])).toEqual([[hexPacket.tag, 'cafe'], [b64Packet.tag, '010203']]);
  });

  it('writes dead letters as the event JSON plus Reason', async () => {
    const q = await createQueue(sqs, 'dlq');
    const target = createSqsDestination('dlq', { queueUrl: q.url, body: 'json', maxMessageBytes: 262_144, ...ep() });
    const dl = createDeadLetter(target, 'edge/sqs', { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 });
    const packets = [makePacket(Buffer.from([0, 1, 2])), makePacket(Buffer.from('lost'))];
    await dl.write(packets, 'failed: AccessDenied');
    await target.close!();
    const bodies = (await receiveBodies(sqs, q.url, 2)).map((b) => JSON.parse(b) as { Tag: string; Data: string; Reason: string });
    expect(bodies.map((b) => [b.Tag, b.Data, b.Reason]).sort()).toEqual(packets.map((p) => [p.tag, p.data.toString('base64'), 'failed: AccessDenied']).sort());
  });

  it('dead-letter write rejects when the queue does not exist', async () => {
    const target = createSqsDestination('dlq', { queueUrl: `${moto.endpoint}/123456789012/nope`, body: 'json', maxMessageBytes: 262_144, ...ep() });
    const dl = createDeadLetter(target, 'edge/sqs', { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 });
    await expect(dl.write([makePacket(Buffer.from('x'))], 'r')).rejects.toThrow(/NonExistentQueue|does not exist/i);
    await target.close!();
  });
});
