/** What moto does not produce (throttling, partial failures, function errors, streaming, EXPRESS):
 *  aws-sdk-client-mock in place of the service. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { DynamoDBClient, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, InvokeCommand, InvokeWithResponseStreamCommand, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { pino } from 'pino';
import { useFakeAwsEnv } from './moto.js';
import { makePacket } from '../contract/packets.js';
import { createKinesisDestination } from '../../destinations/kinesis/index.js';
import { createFirehoseDestination } from '../../destinations/firehose/index.js';
import { createDynamoDbDestination } from '../../destinations/dynamodb/index.js';
import { createSqsDestination } from '../../destinations/sqs/index.js';
import { createEventBridgeDestination } from '../../destinations/eventbridge/index.js';
import { createLambdaDestination } from '../../destinations/lambda/index.js';
import { createStepFunctionsDestination } from '../../destinations/stepfunctions/index.js';
import type { Destination } from '../../gateway/extension/destination.js';

beforeAll(() => useFakeAwsEnv());
const mocks: { reset(): void; restore(): void }[] = [];
const opened: Destination[] = [];
afterEach(async () => {
  for (const m of mocks.splice(0)) m.restore();
  for (const d of opened.splice(0)) await d.close?.();
});
const mock = <T extends { reset(): void; restore(): void }>(m: T): T => { mocks.push(m); return m; };
const open = <D extends Destination>(d: D): D => { opened.push(d); return d; };
const three = () => [makePacket(Buffer.from('a')), makePacket(Buffer.from('b')), makePacket(Buffer.from('c'))];
const signal = new AbortController().signal;
const logger = pino({ level: 'silent' });
const statuses = (r: { outcomes: readonly { status: string }[] }) => r.outcomes.map((o) => o.status);

describe('per-record partial failures', () => {
  it('kinesis: only records with an ErrorCode are retryable', async () => {
    mock(mockClient(KinesisClient)).on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [{ SequenceNumber: '1', ShardId: 's' }, { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }, { SequenceNumber: '2', ShardId: 's' }],
    });
    const d = open(createKinesisDestination('k', { streamName: 's', partitionKey: '${tag}', body: 'raw' }));
    const r = await d.sendBatch(three(), signal);
    expect(statuses(r)).toEqual(['delivered', 'retryable', 'delivered']);
    expect(r.outcomes[1]).toMatchObject({ reason: expect.stringContaining('ProvisionedThroughputExceededException') });
  });

  it('firehose: only failed records are retryable', async () => {
    mock(mockClient(FirehoseClient)).on(PutRecordBatchCommand).resolves({
      FailedPutCount: 2,
      RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'busy' }, { RecordId: 'r' }, { ErrorCode: 'InternalFailure' }],
    });
    const r = await open(createFirehoseDestination('f', { deliveryStreamName: 'x' })).sendBatch(three(), signal);
    expect(statuses(r)).toEqual(['retryable', 'delivered', 'retryable']);
  });

  it('dynamodb: UnprocessedItems are retryable, matched by key', async () => {
    const batch = three();
    mock(mockClient(DynamoDBClient)).on(BatchWriteItemCommand).resolves({
      UnprocessedItems: { t: [{ PutRequest: { Item: { pk: { S: batch[2]!.tag } } } }] },
    });
    const r = await open(createDynamoDbDestination('d', { tableName: 't', partitionKeyAttribute: 'pk', partitionKey: '${tag}' })).sendBatch(batch, signal);
    expect(statuses(r)).toEqual(['delivered', 'delivered', 'retryable']);
  });

  it('sqs: Failed entries by Id; sender faults are failed, others retryable', async () => {
    mock(mockClient(SQSClient)).on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '1', MessageId: 'm', MD5OfMessageBody: 'x' }],
      Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }, { Id: '2', Code: 'InvalidMessageContents', SenderFault: true, Message: 'bad' }],
    });
    const r = await open(createSqsDestination('q', { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', body: 'json', maxMessageBytes: 262_144 })).sendBatch(three(), signal);
    expect(statuses(r)).toEqual(['retryable', 'delivered', 'failed']);
    expect(r.outcomes[2]).toEqual({ status: 'failed', reason: 'InvalidMessageContents: bad' });
  });

  it('eventbridge: FailedEntryCount → per-entry outcomes', async () => {
    mock(mockClient(EventBridgeClient)).on(PutEventsCommand).resolves({
      FailedEntryCount: 1, Entries: [{ EventId: '1' }, { EventId: '2' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'rate' }],
    });
    const r = await open(createEventBridgeDestination('e', { source: 's', detailType: 'd' })).sendBatch(three(), signal);
    expect(statuses(r)).toEqual(['delivered', 'delivered', 'retryable']);
  });

  it('a throttled call makes the whole batch retryable; access denied makes it failed', async () => {
    const m = mock(mockClient(KinesisClient));
    m.on(PutRecordsCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const d = open(createKinesisDestination('k', { streamName: 's', partitionKey: '${tag}', body: 'raw' }));
    expect(statuses(await d.sendBatch(three(), signal))).toEqual(['retryable', 'retryable', 'retryable']);
    const denied = await d.sendBatch(three(), signal);
    expect(denied.outcomes[0]).toEqual({ status: 'failed', reason: 'AccessDeniedException (HTTP 400): not authorized' });
  });
});

describe('lambda and step functions outcomes', () => {
  const clients = { replyByTag: () => true, sendToClient: () => undefined };

  it('lambda TooManyRequestsException (429) is retryable', async () => {
    mock(mockClient(LambdaClient)).on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate Exceeded.', $metadata: { httpStatusCode: 429 } }));
    const r = await open(createLambdaDestination('l', { functionName: 'f', invocation: 'RequestResponse' }, { logger, clients })).sendBatch(three(), signal);
    expect(statuses(r)).toEqual(['retryable', 'retryable', 'retryable']);
  });

  it('lambda FunctionError fails the batch with the errorMessage', async () => {
    mock(mockClient(LambdaClient)).on(InvokeCommand).resolves({
      StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorType: 'TypeError', errorMessage: 'x is undefined' })) as never,
    });
    const r = await open(createLambdaDestination('l', { functionName: 'f', invocation: 'RequestResponse' }, { logger, clients })).sendBatch(three(), signal);
    expect(r.outcomes[0]).toEqual({ status: 'failed', reason: 'FunctionError (Unhandled): TypeError: x is undefined' });
    expect(r.replies).toBeUndefined();
  });

  it('lambda Event invocation is fire and forget (no replies even if a payload came back)', async () => {
    const m = mock(mockClient(LambdaClient));
    m.on(InvokeCommand).resolves({ StatusCode: 202, Payload: Buffer.from('') as never });
    const batch = three();
    const r = await open(createLambdaDestination('l', { functionName: 'f', invocation: 'Event' }, { logger, clients })).sendBatch(batch, signal);
    expect(statuses(r)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(m.commandCalls(InvokeCommand)[0]!.args[0].input.InvocationType).toBe('Event');
  });

  it('lambda ResponseStream sends each streamed reply to its client as it arrives', async () => {
    const batch = three();
    const sent: [string, string][] = [];
    const line = (tag: string, data: string) => Buffer.from(`${JSON.stringify({ Tag: tag, Data: Buffer.from(data).toString('base64') })}\n`);
    const whole = line(batch[1]!.tag, 'second');
    async function* events() {
      yield { PayloadChunk: { Payload: line(batch[0]!.tag, 'first') } };
      expect(sent.map(([, d]) => d)).toEqual(['first']); // sent before the next chunk was read
      yield { PayloadChunk: { Payload: whole.subarray(0, 10) } };
      yield { PayloadChunk: { Payload: whole.subarray(10) } };
      yield { PayloadChunk: { Payload: Buffer.from(`{"Replies":[\n {"Tag":"${batch[2]!.tag}","Data":"${Buffer.from('third').toString('base64')}"}\n]}`) } };
      yield { InvokeComplete: {} };
    }
    mock(mockClient(LambdaClient)).on(InvokeWithResponseStreamCommand).resolves({ StatusCode: 200, EventStream: events() as never });
    const d = open(createLambdaDestination('l', { functionName: 'f', invocation: 'ResponseStream' }, {
      logger, clients: { replyByTag: (tag, data) => { sent.push([tag, data.toString()]); return true; }, sendToClient: () => undefined },
    }));
    const r = await d.sendBatch(batch, signal);
    expect(statuses(r)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(sent).toEqual([[batch[0]!.tag, 'first'], [batch[1]!.tag, 'second'], [batch[2]!.tag, 'third']]);
    expect(r.replies).toBeUndefined();
  });

  it('step functions EXPRESS: output Replies come back; FAILED fails the batch', async () => {
    const batch = three();
    mock(mockClient(SFNClient)).on(StartSyncExecutionCommand)
      .resolvesOnce({ status: 'SUCCEEDED', output: JSON.stringify({ Replies: [{ Tag: batch[0]!.tag, Data: 'aGk=' }] }), executionArn: 'e', startDate: new Date(), stopDate: new Date() })
      .resolvesOnce({ status: 'FAILED', error: 'States.TaskFailed', cause: 'boom', executionArn: 'e', startDate: new Date(), stopDate: new Date() });
    const d = open(createStepFunctionsDestination('s', { stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m', executionType: 'EXPRESS' }, { logger }));
    const ok = await d.sendBatch(batch, signal);
    expect(ok.replies?.map((x) => [x.tag, x.data.toString()])).toEqual([[batch[0]!.tag, 'hi']]);
    const bad = await d.sendBatch(batch, signal);
    expect(bad.outcomes[0]).toEqual({ status: 'failed', reason: 'execution FAILED: States.TaskFailed boom' });
  });
});
