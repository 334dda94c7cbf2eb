import { describe, it, expect } from 'vitest';
import { iamStatementsFromConfig, queueArnFromUrl, lambdaArn, mergeStatements } from '../lib/iam-from-config.js';
import type { GatewayConfigInput } from '../lib/gateway-config.js';

const ctx = { partition: 'aws', region: 'eu-west-1', account: '111122223333' };
const one = (destination: Record<string, unknown>): GatewayConfigInput =>
  ({ listeners: [{ name: 'l', port: 5555, destinations: [destination as never] }] });

describe('iamStatementsFromConfig', () => {
  it.each([
    [{ type: 'lambda', functionName: 'counter' }, ['lambda:InvokeFunction'], 'arn:aws:lambda:eu-west-1:111122223333:function:counter'],
    [{ type: 'sqs', queueUrl: 'https://sqs.us-east-2.amazonaws.com/444455556666/in' }, ['sqs:SendMessage'], 'arn:aws:sqs:us-east-2:444455556666:in'],
    [{ type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:111122223333:t' }, ['sns:Publish'], 'arn:aws:sns:eu-west-1:111122223333:t'],
    [{ type: 'kinesis', streamName: 's1' }, ['kinesis:PutRecords'], 'arn:aws:kinesis:eu-west-1:111122223333:stream/s1'],
    [{ type: 'kinesis', streamArn: 'arn:aws:kinesis:us-west-2:1:stream/x' }, ['kinesis:PutRecords'], 'arn:aws:kinesis:us-west-2:1:stream/x'],
    [{ type: 'firehose', deliveryStreamName: 'f1' }, ['firehose:PutRecordBatch'], 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/f1'],
    [{ type: 's3', bucket: 'b1', prefix: 'raw/' }, ['s3:PutObject'], 'arn:aws:s3:::b1/raw/*'],
    [{ type: 'dynamodb', tableName: 't1', region: 'ap-south-1' }, ['dynamodb:BatchWriteItem'], 'arn:aws:dynamodb:ap-south-1:111122223333:table/t1'],
    [{ type: 's3', bucket: 'b2' }, ['s3:PutObject'], 'arn:aws:s3:::b2/udp-gateway/*'],
    [{ type: 'lambda', functionName: 'f', qualifier: 'live' }, ['lambda:InvokeFunction'], 'arn:aws:lambda:eu-west-1:111122223333:function:f:live'],
    [{ type: 'stepfunctions', stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:s' }, ['states:StartSyncExecution'], 'arn:aws:states:eu-west-1:1:stateMachine:s'],
    [{ type: 'eventbridge' }, ['events:PutEvents'], 'arn:aws:events:eu-west-1:111122223333:event-bus/default'],
    [{ type: 'stepfunctions', stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:m', executionType: 'EXPRESS' },
      ['states:StartSyncExecution'], 'arn:aws:states:eu-west-1:111122223333:stateMachine:m'],
  ])('scopes %j to its own ARN', (dest, actions, resource) => {
    expect(iamStatementsFromConfig(one(dest), ctx)).toEqual([{ actions, resources: [resource] }]);
  });

  it('gives CloudWatch Logs PutLogEvents on the named stream, CreateLogStream only with createIfMissing', () => {
    const dest = { type: 'cloudwatch-logs', logGroupName: '/udp/in', logStreamName: 'gw' };
    expect(iamStatementsFromConfig(one(dest), ctx)).toEqual([
      { actions: ['logs:PutLogEvents'], resources: ['arn:aws:logs:eu-west-1:111122223333:log-group:/udp/in:log-stream:gw'] },
    ]);
    expect(iamStatementsFromConfig(one({ ...dest, createIfMissing: true }), ctx)[1]).toEqual(
      { actions: ['logs:CreateLogStream'], resources: ['arn:aws:logs:eu-west-1:111122223333:log-group:/udp/in:*'] });
  });

  it('grants nothing for destinations that call no AWS API', () => {
    expect(iamStatementsFromConfig(one({ type: 'udp', host: '127.0.0.1', port: 9 }), ctx)).toEqual([]);
  });

  it('adds consume actions for an SQS packet source and SendMessage for an SQS dead letter', () => {
    const cfg: GatewayConfigInput = {
      listeners: [{ name: 'l', port: 1, destinations: [{ type: 'http', url: 'http://x', deadLetter: { sqsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq' } }] }],
      packetSources: [{ type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/egress' }],
    };
    expect(iamStatementsFromConfig(cfg, ctx)).toEqual([
      { actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:eu-west-1:111122223333:dlq'] },
      { actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: ['arn:aws:sqs:eu-west-1:111122223333:egress'] },
    ]);
  });

  it('merges the same actions across listeners into one statement', () => {
    const cfg: GatewayConfigInput = { listeners: [
      { name: 'a', port: 1, destinations: [{ type: 'lambda', functionName: 'f1' }] },
      { name: 'b', port: 2, destinations: [{ type: 'lambda', functionName: 'f2' }, { type: 'lambda', functionName: 'f1' }] },
    ] };
    const s = iamStatementsFromConfig(cfg, ctx);
    expect(s).toHaveLength(1);
    expect(s[0]!.resources).toEqual(['arn:aws:lambda:eu-west-1:111122223333:function:f1', 'arn:aws:lambda:eu-west-1:111122223333:function:f2']);
  });

  it('refuses an unknown type and a missing option instead of granting nothing', () => {
    expect(() => iamStatementsFromConfig(one({ type: 'carrier-pigeon' }), ctx)).toThrow(/carrier-pigeon.*no IAM rule/);
    expect(() => iamStatementsFromConfig(one({ type: 'lambda' }), ctx)).toThrow(/functionName/);
  });
});

describe('ARN helpers', () => {
  it('reads region and account from queue URLs, legacy and local forms', () => {
    expect(queueArnFromUrl('https://eu-north-1.queue.amazonaws.com/123456789012/q', ctx)).toBe('arn:aws:sqs:eu-north-1:123456789012:q');
    expect(queueArnFromUrl('http://127.0.0.1:4566/000000000000/q', ctx)).toBe('arn:aws:sqs:eu-west-1:000000000000:q');
    expect(() => queueArnFromUrl('not a url', ctx)).toThrow(/not an SQS queue URL/);
  });

  it('keeps Lambda ARNs and expands partial ARNs and qualified names', () => {
    expect(lambdaArn('arn:aws:lambda:us-east-1:1:function:x', ctx, 'eu-west-1')).toBe('arn:aws:lambda:us-east-1:1:function:x');
    expect(lambdaArn('999988887777:function:x', ctx, 'eu-west-1')).toBe('arn:aws:lambda:eu-west-1:999988887777:function:x');
    expect(lambdaArn('x:live', ctx, 'eu-west-1')).toBe('arn:aws:lambda:eu-west-1:111122223333:function:x:live');
  });

  it('merge keeps distinct action sets apart', () => {
    expect(mergeStatements([{ actions: ['a'], resources: ['r'] }, { actions: ['b'], resources: ['r'] }])).toHaveLength(2);
  });
});
