/**
 * The SNS endpoint's decisions without HTTP (packet-source/sns-http/sns-handler.ts): for every outcome,
 * the status SNS sees, the counted outcome, and the one log line an operator reads (level, message,
 * the message's identifiers). Packets go through a real egress and UDP socket (the harness).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { createSnsHandler, type SnsHandler, type SnsHandlerOptions } from '../../packet-source/sns-http/sns-handler.js';
import { ReplayWindow } from '../../gateway/out-of-band/seen-ids.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';
import { createHarness, createUdpClient, receivedBeforeMarker, type Harness, type UdpClient } from './harness.js';
import { makeSigner, signedEnvelope, TOPIC, type EnvelopeInput } from './sns-fixtures.js';

const signer = makeSigner();
let h: Harness;
let client: UdpClient;
beforeEach(async () => { h = await createHarness(); client = await createUdpClient(); });
afterEach(async () => { await client.close(); await h.close(); });

interface Line { level: string; fields: Record<string, unknown>; msg: string }

function handler(o: Partial<SnsHandlerOptions> = {}): { handle: SnsHandler; lines: Line[]; seen: ReplayWindow; confirmed: string[] } {
  const lines: Line[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) => { lines.push({ level, fields, msg }); };
  const logger = { warn: log('warn'), info: log('info'), debug: log('debug') } as unknown as Logger;
  const seen = new ReplayWindow(100, 3_600_000);
  const confirmed: string[] = [];
  const handle = createSnsHandler({
    source: 'sns', listener: 'edge', egress: h.egress, logger, metrics: sourceMetrics(h.metrics), topicArns: [TOPIC],
    checkSubscribeUrl: (raw) => new URL(raw), confirmSubscription: async (url) => { confirmed.push(url.href); }, seen, ...o,
  });
  return { handle, lines, seen, confirmed };
}

const env = (message: string, i: Partial<EnvelopeInput> = {}) => signedEnvelope(signer, { message, ...i });
const toClient = (...data: string[]) => JSON.stringify({ Messages: data.map((d) => ({ Remote: { Address: '127.0.0.1', Port: client.port }, Data: Buffer.from(d).toString('base64') })) });
const idsOf = (e: Record<string, string>) => ({ type: e.Type, messageId: e.MessageId, topicArn: e.TopicArn });
const counted = (outcome: string) => counterValue(sourceMetrics(h.metrics).messages, { source: 'sns', outcome });

describe('sns handler: outcome, status and log line', () => {
  it('a body that is not an SNS message: 400 malformed, warned with the parse error', async () => {
    const { handle, lines } = handler();
    expect(await handle('{"Type":"Nonsense"}')).toEqual({ status: 400, outcome: 'malformed' });
    expect(lines).toEqual([{ level: 'warn', fields: { outcome: 'malformed', status: 400, error: expect.stringMatching(/^Type must be one of/) }, msg: 'SNS request is not an SNS message' }]);
    expect(await counted('malformed')).toBe(1);
  });

  it('a type header that differs from the body: 400 malformed, naming both', async () => {
    const { handle, lines } = handler();
    const e = env(toClient('x'));
    expect(await handle(JSON.stringify(e), 'SubscriptionConfirmation')).toEqual({ status: 400, outcome: 'malformed' });
    expect(lines).toEqual([{ level: 'warn', fields: { outcome: 'malformed', status: 400, ...idsOf(e), error: 'x-amz-sns-message-type SubscriptionConfirmation differs from Type' }, msg: 'SNS request is inconsistent' }]);
  });

  it('a topic not in topicArns: 403, warned with the message\'s identifiers, nothing sent', async () => {
    const { handle, lines } = handler();
    await client.hello(h);
    const e = env(toClient('foreign'), { topicArn: 'arn:aws:sns:us-east-1:123456789012:other' });
    expect(await handle(JSON.stringify(e), 'Notification')).toEqual({ status: 403, outcome: 'topic-not-allowed' });
    expect(lines).toEqual([{ level: 'warn', fields: { outcome: 'topic-not-allowed', status: 403, ...idsOf(e) }, msg: 'SNS message from a topic not in topicArns refused' }]);
    expect(await receivedBeforeMarker(h, client)).toEqual([]);
  });

  it('a notification delivered: 200, logged at debug with the count sent; a retry of it: 200 duplicate, not sent again', async () => {
    const { handle, lines } = handler();
    await client.hello(h);
    const e = env(toClient('once'));
    expect(await handle(JSON.stringify(e))).toEqual({ status: 200, outcome: 'delivered' });
    expect(await handle(JSON.stringify(e))).toEqual({ status: 200, outcome: 'duplicate' });
    expect(lines).toEqual([
      { level: 'debug', fields: { outcome: 'delivered', status: 200, ...idsOf(e), sent: 1 }, msg: 'SNS notification handled' },
      { level: 'debug', fields: { outcome: 'duplicate', status: 200, ...idsOf(e) }, msg: 'SNS retry of a handled message ignored' },
    ]);
    expect(await receivedBeforeMarker(h, client)).toEqual(['once']);
  });

  it('delivered when something was sent, refused when nothing was and something was refused', async () => {
    const { handle, lines } = handler();
    await client.hello(h);
    const mixed = JSON.stringify({ Messages: [{ Remote: { Address: '127.0.0.1', Port: client.port }, Data: 'eA==' }, { Remote: { Address: '192.0.2.1', Port: 9 }, Data: 'eQ==' }] });
    expect(await handle(JSON.stringify(env(mixed)))).toEqual({ status: 200, outcome: 'delivered' });
    const refused = JSON.stringify({ Messages: [{ Remote: { Address: '192.0.2.1', Port: 9 }, Data: 'eQ==' }] });
    expect(await handle(JSON.stringify(env(refused)))).toEqual({ status: 200, outcome: 'refused' });
    expect(lines.map((l) => [l.level, l.fields.outcome, l.fields.sent, (l.fields.refused as unknown[] | undefined)?.length])).toEqual([['debug', 'delivered', 1, 1], ['debug', 'refused', 0, 1]]);
  });

  it('a notification that is not an egress document, or has no valid entry: 400 malformed, warned', async () => {
    const { handle, lines } = handler();
    const notDoc = env('not json'), noEntry = env('{"Messages":[{"Data":"x"}]}');
    expect(await handle(JSON.stringify(notDoc))).toEqual({ status: 400, outcome: 'malformed' });
    expect(await handle(JSON.stringify(noEntry))).toEqual({ status: 400, outcome: 'malformed' });
    expect(lines).toEqual([
      { level: 'warn', fields: { outcome: 'malformed', status: 400, ...idsOf(notDoc), error: expect.any(String) }, msg: 'SNS notification is not an egress document' },
      { level: 'warn', fields: expect.objectContaining({ outcome: 'malformed', status: 400, ...idsOf(noEntry), sent: 0, rejected: expect.any(Array) }), msg: 'SNS notification has no valid entry' },
    ]);
  });

  it('a message from the future or older than the window: 400 stale, warned with its Timestamp and why', async () => {
    const { handle, lines } = handler();
    const ahead = env(toClient('a'), { timestamp: new Date(Date.now() + 3_600_000).toISOString() });
    const old = env(toClient('b'), { timestamp: new Date(Date.now() - 7_200_000).toISOString() });
    expect(await handle(JSON.stringify(ahead))).toEqual({ status: 400, outcome: 'stale' });
    expect(await handle(JSON.stringify(old))).toEqual({ status: 400, outcome: 'stale' });
    expect(lines).toEqual([
      { level: 'warn', fields: { outcome: 'stale', status: 400, ...idsOf(ahead), timestamp: ahead.Timestamp, error: 'Timestamp is in the future' }, msg: 'SNS message refused by its Timestamp' },
      { level: 'warn', fields: { outcome: 'stale', status: 400, ...idsOf(old), timestamp: old.Timestamp, error: 'Timestamp is outside the accepted window (maxMessageAgeSeconds)' }, msg: 'SNS message refused by its Timestamp' },
    ]);
  });

  it('a bad signature: 403, warned with the verifier\'s reason and detail', async () => {
    const { handle, lines } = handler({ verify: async () => ({ ok: false, reason: 'signature-mismatch', detail: 'does not verify' }) as never });
    const e = env(toClient('x'));
    expect(await handle(JSON.stringify(e))).toEqual({ status: 403, outcome: 'bad-signature' });
    expect(lines).toEqual([{ level: 'warn', fields: { outcome: 'bad-signature', status: 403, ...idsOf(e), reason: 'signature-mismatch', error: 'does not verify' }, msg: 'SNS signature refused' }]);
  });

  it('the same message arriving while its first copy was being verified: 200 duplicate, sent once', async () => {
    let seenRef!: ReplayWindow;
    const { handle, lines, seen } = handler({
      verify: async (e) => { seenRef.add(e.MessageId, Date.parse(e.Timestamp), Date.now()); return { ok: true }; },
    });
    seenRef = seen;
    await client.hello(h);
    expect(await handle(JSON.stringify(env(toClient('raced'))))).toEqual({ status: 200, outcome: 'duplicate' });
    expect(lines.map((l) => [l.level, l.fields.outcome, l.msg])).toEqual([['debug', 'duplicate', 'SNS retry of a handled message ignored']]);
    expect(await receivedBeforeMarker(h, client)).toEqual([]);
  });

  it('a subscription confirmation: confirmed (info); a SubscribeURL refused: 400; a failed confirmation: 502 and retried', async () => {
    let fail = true;
    const { handle, lines, confirmed } = handler({
      checkSubscribeUrl: (raw) => (raw.includes('evil') ? new Error('is not an SNS host') : new URL(raw)),
      confirmSubscription: async (url) => { if (fail) throw new Error('connect ECONNREFUSED'); confirmed.push(url.href); },
    });
    const bad = env('c', { type: 'SubscriptionConfirmation', subscribeUrl: 'https://evil.example/confirm' });
    expect(await handle(JSON.stringify(bad))).toEqual({ status: 400, outcome: 'malformed' });
    const good = env('c', { type: 'SubscriptionConfirmation', subscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t' });
    expect(await handle(JSON.stringify(good))).toEqual({ status: 502, outcome: 'confirm-failed' });
    fail = false;
    expect(await handle(JSON.stringify(good))).toEqual({ status: 200, outcome: 'confirmed' }); // SNS's retry is handled, not a duplicate
    expect(confirmed).toEqual(['https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t']);
    expect(lines).toEqual([
      { level: 'warn', fields: { outcome: 'malformed', status: 400, ...idsOf(bad), error: 'SubscribeURL is not an SNS host' }, msg: 'SNS subscription confirmation refused' },
      { level: 'warn', fields: { outcome: 'confirm-failed', status: 502, ...idsOf(good), error: 'connect ECONNREFUSED' }, msg: 'SNS subscription could not be confirmed' },
      { level: 'info', fields: { outcome: 'confirmed', status: 200, ...idsOf(good) }, msg: 'SNS subscription confirmed' },
    ]);
    expect([await counted('confirmed'), await counted('confirm-failed')]).toEqual([1, 1]);
  });

  it('an unsubscribe confirmation: 200 unsubscribed, logged at info', async () => {
    const { handle, lines, confirmed } = handler();
    const e = env('bye', { type: 'UnsubscribeConfirmation' });
    expect(await handle(JSON.stringify(e))).toEqual({ status: 200, outcome: 'unsubscribed' });
    expect(lines).toEqual([{ level: 'info', fields: { outcome: 'unsubscribed', status: 200, ...idsOf(e) }, msg: 'SNS subscription was unsubscribed' }]);
    expect(confirmed).toEqual([]);
  });
});
