import { describe, expect, it } from 'vitest';
import { SNSClient } from '@aws-sdk/client-sns';
import { sentTimestampOf, unwrapSqsBody } from '../../packet-source/sqs/sqs-body.js';
import { sendPackets } from '../../packet-source/publisher/index.js';

describe('unwrapSqsBody', () => {
  it('takes a raw egress document, timed from SentTimestamp', () => {
    expect(unwrapSqsBody('{"Messages":[]}', 1_000, 9_000)).toEqual({ document: { Messages: [] }, now: 1_000, envelope: 'raw' });
    expect(unwrapSqsBody('{"Messages":[]}', undefined, 9_000)).toMatchObject({ now: 9_000 });
  });

  it('unwraps an SNS envelope, timed from its Timestamp', () => {
    const body = JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: '{"Messages":[]}', Timestamp: '2026-01-01T00:00:00.000Z' });
    expect(unwrapSqsBody(body, 1_000, 9_000)).toEqual({ document: '{"Messages":[]}', now: Date.parse('2026-01-01T00:00:00.000Z'), envelope: 'sns' });
  });

  it('names what is wrong with a body', () => {
    expect((unwrapSqsBody('nope', undefined, 0) as Error).message).toBe('body is not JSON');
    expect((unwrapSqsBody('[1]', undefined, 0) as Error).message).toBe('body is not a JSON object');
    expect((unwrapSqsBody(undefined, undefined, 0) as Error).message).toBe('message has no body');
  });

  it('reads SentTimestamp', () => {
    expect(sentTimestampOf({ SentTimestamp: '1700000000123' })).toBe(1_700_000_000_123);
    expect(sentTimestampOf({ SentTimestamp: 'x' })).toBeUndefined();
    expect(sentTimestampOf(undefined)).toBeUndefined();
  });
});

describe('publisher errors', () => {
  it('throws when no message could be published', async () => {
    const dead = new SNSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await expect(sendPackets({ topicArn: 'arn:aws:sns:us-east-1:1:t' }, [{ address: '192.0.2.1', port: 9, data: 'x' }], { client: dead }))
      .rejects.toThrow(/no message could be published \(1 failed\)/);
    dead.destroy();
  });

  it('publishes nothing for an empty list', async () => {
    expect(await sendPackets({ queueUrl: 'http://127.0.0.1:9/1/q' }, [])).toEqual({ messageIds: [], failed: [] });
  });
});
