/** Pure parts of the AWS destinations: expressions, IAM derivation, limit splitting, log ordering. */
import { describe, expect, it } from 'vitest';
import { parseExpression } from '../../gateway/wire/expression.js';
import { queueArnFromUrl } from '../../aws/iam.js';
import { iamStatementsForConfig } from '../../app/iam.js';
import { chronologicalGroups } from '../../destinations/cloudwatch-logs/index.js';
import { ReplyStreamParser } from '../../destinations/lambda/reply-stream.js';
import { createSqsDestination, SqsOptions } from '../../destinations/sqs/index.js';
import { KinesisOptions } from '../../destinations/kinesis/index.js';
import { validate } from '../../gateway/config/validate.js';
import { GatewayError } from '../../gateway/errors.js';
import { delivered } from '../../gateway/extension/destination.js';
import { makePacket } from '../contract/packets.js';

describe('expressions', () => {
  const p = makePacket(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]), { remote: { address: '2001:db8::1', port: 4000 }, listener: 'l1' });

  it('evaluates fields and byte ranges', () => {
    expect(parseExpression('${remote.address}:${remote.port}')(p)).toBe('2001:db8::1:4000');
    expect(parseExpression('${listener}/${data[0:4]:hex}')(p)).toBe('l1/deadbeef');
    expect(parseExpression('${data[1:3]:base64}')(p)).toBe(Buffer.from([0xad, 0xbe]).toString('base64'));
    expect(parseExpression('${data[4]}')(p)).toBe('01');
    expect(parseExpression('${data[3:]}')(p)).toBe('ef01');
    expect(parseExpression('x-${tag}')(p)).toBe(`x-${p.tag}`);
    expect(parseExpression('${data[10:12]}')(p)).toBe(''); // past the end: empty, never a throw
  });

  it('rejects bad templates with a clear message', () => {
    expect(() => parseExpression('${remote.ip}')).toThrow('unknown placeholder "${remote.ip}"');
    expect(() => parseExpression('${data[0:4]:rot13}')).toThrow('unknown encoding "rot13"');
    expect(() => parseExpression('${data[4:2]}')).toThrow('empty byte range');
    expect(() => parseExpression('${tag')).toThrow('not closed');
  });

  it('is a config error at validation and at create', () => {
    const bad = validate(KinesisOptions, { streamName: 's', partitionKey: '${nope}' }, '/listeners/0/destinations/0');
    expect('problems' in bad && bad.problems.map((x) => x.path)).toEqual(['/listeners/0/destinations/0/partitionKey']);
    const ok = validate(SqsOptions, { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q' });
    expect('value' in ok && ok.value).toMatchObject({ body: 'json', maxMessageBytes: 262_144 });
    expect(() => createSqsDestination('q', { queueUrl: 'https://x/1/q.fifo', body: 'json', maxMessageBytes: 262_144, messageGroupId: '${x}' }))
      .toThrow(GatewayError);
  });
});

describe('IAM statements from the kinds\' manifests', () => {
  const ctx = { partition: 'aws', region: 'eu-west-1', account: '111122223333' };
  const of = (d: Record<string, unknown>) => iamStatementsForConfig({ listeners: [{ destinations: [d] }] }, ctx);
  it('derives least-privilege statements per kind, the dead-letter target included', () => {
    expect(of({ type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q1' }))
      .toEqual([{ actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:eu-west-1:123456789012:q1'] }]);
    expect(of({ type: 'lambda', functionName: 'arn:aws:lambda:us-east-1:1:function:f', qualifier: 'live' })[0]!.resources)
      .toEqual(['arn:aws:lambda:us-east-1:1:function:f:live']);
    expect(of({ type: 'cloudwatch-logs', logGroupName: 'g', logStreamName: 's', createIfMissing: true, region: 'us-east-1' }).map((s) => s.actions))
      .toEqual([['logs:PutLogEvents'], ['logs:CreateLogStream']]);
    expect(of({ type: 'stepfunctions', stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m', executionType: 'EXPRESS' })[0]!.actions)
      .toEqual(['states:StartSyncExecution']);
    expect(of({ type: 's3', bucket: 'b', prefix: 'p/' })[0]!.resources).toEqual(['arn:aws:s3:::b/p/*']);
    expect(of({ type: 'kinesis', streamName: 's', deadLetter: { sqsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq' } }).map((s) => s.actions[0]))
      .toEqual(['kinesis:PutRecords', 'sqs:SendMessage']);
    expect(of({ type: 'handler', module: 'x.mjs', deadLetter: { type: 'kinesis', streamName: 'dl' } }).map((s) => s.resources[0]))
      .toEqual(['arn:aws:kinesis:eu-west-1:111122223333:stream/dl']);
    expect(of({ type: 'handler', module: 'x.mjs' })).toEqual([]);
  });

  it('refuses a type no manifest knows, and a missing option the resource depends on', () => {
    expect(() => of({ type: 'statsd' })).toThrow(/listeners\[0\]\.destinations\[0\]: type "statsd" has no IAM rule/);
    expect(() => of({ type: 'sns' })).toThrow(/sns needs "topicArn"/);
  });

  it('maps legacy and China queue URLs', () => {
    expect(queueArnFromUrl('https://queue.amazonaws.com/123456789012/q', ctx)).toBe('arn:aws:sqs:us-east-1:123456789012:q');
    expect(queueArnFromUrl('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', ctx)).toBe('arn:aws-cn:sqs:cn-north-1:123456789012:q');
  });
});

describe('limits and ordering', () => {
  it('orders log events by time and splits at 24 hours', () => {
    const t = Date.UTC(2026, 0, 1);
    const batch = [t + 5, t, t + 25 * 3600_000, t + 1].map((receivedAt) => makePacket(Buffer.from('x'), { receivedAt }));
    expect(chronologicalGroups(batch)).toEqual([[1, 3, 0], [2]]);
  });

  it('parses streamed replies split inside a multi-byte character', () => {
    const got: string[] = [];
    const parser = new ReplyStreamParser((r) => got.push(r.data.toString()), () => 'utf8');
    const text = Buffer.from('{"Tag":"a","Data":"héllo"}\nnot json\n');
    parser.push(text.subarray(0, 22));
    parser.push(text.subarray(22));
    parser.end();
    expect(got).toEqual(['héllo']);
    expect(parser.rejected).toBe(1);
  });
});

describe('error classification', () => {
  it('treats throttling, 5xx and network errors as retryable, configuration and 4xx as failed', async () => {
    const { outcomeForAwsError } = await import('../../aws/errors.js');
    const err = (name: string, status?: number, extra: object = {}) =>
      Object.assign(new Error(`${name} happened`), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}), ...extra });
    expect(outcomeForAwsError(err('ProvisionedThroughputExceededException', 400)).status).toBe('retryable');
    expect(outcomeForAwsError(err('InternalFailure', 500)).status).toBe('retryable');
    expect(outcomeForAwsError(err('Whatever', 503)).status).toBe('retryable');
    expect(outcomeForAwsError(err('Error', undefined, { code: 'ECONNREFUSED' })).status).toBe('retryable');
    expect(outcomeForAwsError(err('ValidationException', 400)).status).toBe('failed');
    expect(outcomeForAwsError(err('ResourceNotFoundException', 400)).status).toBe('failed');
    expect(outcomeForAwsError(new Error('Region is missing')).status).toBe('failed');
  });
});
