/** The sqs packet source against moto_server: publisher → queue → poller → egress → real UDP client. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { getEventListeners } from 'node:events';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { startMoto, type Moto } from '../aws/moto.js';
import { createQueue } from '../aws/read-back.js';
import { createSqsSource } from '../../packet-source/sqs/index.js';
import type { PacketSource } from '../../gateway/extension/packet-source.js';
import { sendPackets, sendReplies } from '../../packet-source/publisher/index.js';
import { counterValue, sourceMetrics } from '../../gateway/out-of-band/source-metrics.js';
import { createHarness, createUdpClient, receivedBeforeMarker, type Harness, type UdpClient } from './harness.js';
import pino from 'pino';

let moto: Moto;
let sqs: SQSClient;
let sns: SNSClient;
let h: Harness;
let client: UdpClient;
let poller: PacketSource | undefined;

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
  sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => { sqs?.destroy(); sns?.destroy(); await moto?.stop(); });
beforeEach(async () => { h = await createHarness(); client = await createUdpClient(); });
afterEach(async () => { await poller?.close(); poller = undefined; await client.close(); await h.close(); });

async function startPoller(queueUrl: string, waitTimeSeconds = 1): Promise<PacketSource> {
  poller = createSqsSource('queue', { queueUrl, waitTimeSeconds, maxMessages: 10, visibilityTimeout: 60, maxRememberedMessageIds: 100 }, h.ctx, { client: sqs });
  await poller.start();
  return poller;
}

const outcome = (o: string) => counterValue(sourceMetrics(h.metrics).messages, { source: 'queue', outcome: o });

async function queueCounts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes: a } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(a!.ApproximateNumberOfMessages), inFlight: Number(a!.ApproximateNumberOfMessagesNotVisible) };
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) { if (await check()) return; await new Promise((r) => setTimeout(r, 50)); }
  throw new Error('condition not met within 5 s');
}

describe('sqs packet source with moto_server', () => {
  it('sends published packets from the listener port and deletes the message', async () => {
    const q = await createQueue(sqs, 'oob');
    await client.hello(h);
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'queued-push' }], { client: sqs });
    await startPoller(q.url);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('queued-push');
    expect(got!.rinfo.port).toBe(h.listenerPort);
    await eventually(async () => (await outcome('delivered')) === 1);
    await eventually(async () => { const c = await queueCounts(q.url); return c.visible === 0 && c.inFlight === 0; });
    expect(await outcome('delete-failed')).toBe(0);
  });

  it('sends async replies by tag', async () => {
    const q = await createQueue(sqs, 'oob');
    const tag = h.codec.encode('edge', { address: '127.0.0.1', port: client.port }, Date.now());
    await sendReplies({ queueUrl: q.url }, [{ tag, data: 'late-reply' }], { client: sqs });
    await startPoller(q.url);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('late-reply');
  });

  it('leaves malformed and refused messages on the queue, counted', async () => {
    const q = await createQueue(sqs, 'oob');
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'not json' }));
    // Never seen by the listener, not in egress.allow: refused by the address policy.
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'unsolicited' }], { client: sqs });
    await startPoller(q.url);
    await eventually(async () => (await outcome('malformed')) === 1 && (await outcome('refused')) === 1);
    await poller!.close();
    expect(await queueCounts(q.url)).toEqual({ visible: 0, inFlight: 2 }); // received, not deleted
    expect(await counterValue(h.metrics.egressRefused, { path: 'out_of_band', reason: 'address-refused' })).toBe(1);
    expect(await receivedBeforeMarker(h, client)).toEqual([]);
  });

  it('drops an expired packet (counted) and deletes its message', async () => {
    const q = await createQueue(sqs, 'oob');
    await client.hello(h);
    await sendPackets({ queueUrl: q.url }, [
      { address: '127.0.0.1', port: client.port, data: 'too-late', expiresAt: new Date(Date.now() - 60_000) },
      { address: '127.0.0.1', port: client.port, data: 'in-time', ttlSeconds: 300 },
    ], { client: sqs, batchSize: 1 });
    await startPoller(q.url);
    await eventually(async () => (await outcome('expired')) === 1 && (await outcome('delivered')) === 1);
    expect(await receivedBeforeMarker(h, client)).toEqual(['in-time']);
    expect(await counterValue(h.metrics.egressRefused, { path: 'out_of_band', reason: 'expired' })).toBe(1);
    await eventually(async () => { const c = await queueCounts(q.url); return c.visible === 0 && c.inFlight === 0; });
  });

  it('unwraps SNS envelopes from an SNS → SQS subscription', async () => {
    const q = await createQueue(sqs, 'oob');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `to-queue-${Date.now()}` }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn }));
    await client.hello(h);
    await sendPackets({ topicArn: TopicArn! }, [{ address: '127.0.0.1', port: client.port, data: 'via-topic' }], { client: sns });
    await startPoller(q.url);
    const [got] = await client.next();
    expect(got!.data.toString()).toBe('via-topic');
  });

  it('close() aborts an in-flight 20 s long poll', async () => {
    const q = await createQueue(sqs, 'idle');
    let polling!: () => void;
    const inFlight = new Promise<void>((r) => { polling = r; });
    const watched = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    watched.middlewareStack.add((next, context) => async (args) => { if (context.commandName === 'ReceiveMessageCommand') polling(); return next(args); }, { step: 'finalizeRequest', name: 'seeReceive' });
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 20, maxMessages: 10, visibilityTimeout: 60, maxRememberedMessageIds: 100 }, h.ctx, { client: watched });
    const p = poller;
    await p.start();
    await inFlight; // the long poll is on its way to moto
    const closed = await Promise.race([p.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still polling'), 10_000))]);
    expect(closed).toBe('closed');
    expect(p.status!()).toMatchObject({ running: false });
    expect(await outcome('receive-error')).toBe(0); // the aborted poll is not a receive error
    poller = undefined;
    watched.destroy();
  });
});

describe('sqs packet source resilience', () => {
  /** A client to moto whose commands fail as the test says (what moto cannot be made to do). */
  function failing(fail: (command: string, n: number) => boolean): SQSClient {
    const c = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    const counts = new Map<string, number>();
    c.middlewareStack.add((next, context) => async (args) => {
      const n = (counts.get(context.commandName!) ?? 0) + 1;
      counts.set(context.commandName!, n);
      if (fail(context.commandName!, n)) throw new Error(`injected ${context.commandName} failure ${n}`);
      return next(args);
    }, { step: 'initialize', name: 'injectFailures' });
    return c;
  }

  /** The poller's warnings, as logged. */
  function capture(level = 'warn'): { ctx: typeof h.ctx; lines: Record<string, unknown>[] } {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
    return { ctx: { ...h.ctx, logger }, lines };
  }

  it('counts receive errors and backs off exponentially, from 500 ms again after a success', async () => {
    const q = await createQueue(sqs, 'flaky');
    // Receives 1, 2 fail, 3 succeeds (an empty 1 s poll), 4 fails.
    const c = failing((cmd, n) => cmd === 'ReceiveMessageCommand' && n !== 3);
    const { ctx, lines } = capture();
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, maxRememberedMessageIds: 10 }, ctx, { client: c });
    await poller.start();
    await eventually(async () => (await outcome('receive-error')) >= 3);
    await poller.close();
    poller = undefined;
    c.destroy();
    const delays = lines.filter((l) => l.outcome === 'receive-error').map((l) => l.retryInMs);
    expect(delays.slice(0, 3)).toEqual([500, 1000, 500]);
    expect(lines.find((l) => l.outcome === 'receive-error')).toMatchObject({ level: 40, msg: 'SQS receive failed', error: 'injected ReceiveMessageCommand failure 1' });
  });

  it('close() ends a receive-error backoff at once', async () => {
    const { ctx, lines } = capture();
    const broken = new SQSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 });
    poller = createSqsSource('queue', { queueUrl: 'http://127.0.0.1:9/000000000000/missing', waitTimeSeconds: 1, maxMessages: 10, maxRememberedMessageIds: 10 }, ctx, { client: broken });
    await poller.start();
    await eventually(async () => (await outcome('receive-error')) >= 1);
    const closed = await Promise.race([poller.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 10_000))]);
    expect(closed).toBe('closed');
    expect(poller.status!()).toMatchObject({ running: false });
    poller = undefined;
    broken.destroy();
    expect(lines.filter((l) => l.outcome === 'receive-error').map((l) => l.retryInMs)).toEqual([500]);
  });

  it('a message received again after its delete failed is not sent twice (MessageId remembered)', async () => {
    const q = await createQueue(sqs, 'redelivered');
    await client.hello(h);
    // The first delete fails: with a visibility timeout of 0 the message is received again at once.
    const c = failing((cmd, n) => cmd === 'DeleteMessageBatchCommand' && n === 1);
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, visibilityTimeout: 0, maxRememberedMessageIds: 10 }, h.ctx, { client: c });
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'exactly-once' }], { client: sqs });
    await poller.start();
    await eventually(async () => (await outcome('duplicate')) === 1);
    await eventually(async () => { const n = await queueCounts(q.url); return n.visible === 0 && n.inFlight === 0; });
    expect(await receivedBeforeMarker(h, client)).toEqual(['exactly-once']);
    expect(await outcome('delivered')).toBe(1);
    await poller.close();
    poller = undefined;
    c.destroy();
  });

  it('asks SQS for what it was configured with, and reports its polls in status()', async () => {
    const q = await createQueue(sqs, 'asked');
    const inputs: Record<string, unknown>[] = [];
    const c = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    c.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'ReceiveMessageCommand') inputs.push({ ...(args.input as Record<string, unknown>) });
      return next(args);
    }, { step: 'initialize', name: 'recordReceive' });
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 7, visibilityTimeout: 45, maxRememberedMessageIds: 10 }, h.ctx, { client: c });
    expect(poller.status!()).toEqual({ kind: 'sqs', queueUrl: q.url, polls: 0, running: false });
    await poller.start();
    await eventually(async () => (poller!.status!() as { polls: number }).polls >= 1);
    expect(poller.status!()).toMatchObject({ kind: 'sqs', queueUrl: q.url, running: true });
    expect(await outcome('malformed') + await outcome('delivered')).toBe(0); // an empty poll handles nothing
    expect(inputs[0]).toEqual({
      QueueUrl: q.url, MaxNumberOfMessages: 7, WaitTimeSeconds: 1, VisibilityTimeout: 45,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    });
    await poller.close();
    poller = undefined;
    const before = inputs.length;
    const p2 = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 1, maxRememberedMessageIds: 10 }, h.ctx, { client: c });
    await p2.start();
    await eventually(async () => inputs.length > before);
    await p2.close();
    c.destroy();
    expect(inputs[before]).toMatchObject({ MaxNumberOfMessages: 1 });
    expect('VisibilityTimeout' in inputs[before]!).toBe(false); // the queue's own visibility timeout
  });

  it('logs a handled message at debug, one left on the queue at warn, each with its MessageId and outcome', async () => {
    const q = await createQueue(sqs, 'logged');
    await client.hello(h);
    const { ctx, lines } = capture('debug');
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'not json' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"Messages":"nope"}' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: '{"Messages":[{"Data":"eA=="}]}' })); // an entry without Remote
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: JSON.stringify({ Messages: [{ Remote: { Address: '192.0.2.1', Port: 9 }, Data: 'eA==' }] }) }));
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'fine' }], { client: sqs });
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, visibilityTimeout: 60, maxRememberedMessageIds: 10 }, ctx, { client: sqs });
    await poller.start();
    await eventually(async () => (await outcome('malformed')) === 3 && (await outcome('delivered')) === 1 && (await outcome('refused')) === 1);
    const malformed = lines.filter((l) => l.outcome === 'malformed').map((l) => [l.level, l.msg, l.envelope, l.error ?? (l.rejected as unknown[]).length]);
    expect(malformed.sort((a, b) => String(a[3]).localeCompare(String(b[3])))).toEqual([
      [40, 'SQS message left on the queue', 'raw', 1],
      [40, 'SQS message left on the queue', undefined, 'body is not JSON'],
      [40, 'SQS message left on the queue', 'raw', expect.stringMatching(/Messages/)],
    ].sort((a, b) => String(a[3]).localeCompare(String(b[3]))));
    expect(lines.find((l) => l.outcome === 'refused')).toMatchObject({ level: 40, msg: 'SQS message left on the queue', envelope: 'raw', sent: 0, refused: expect.any(Array) });
    expect(lines.find((l) => l.outcome === 'delivered')).toMatchObject({ level: 20, msg: 'SQS message handled', messageId: expect.any(String), receiveCount: '1', envelope: 'raw', sent: 1, packetSource: 'queue', kind: 'sqs' });
    expect(lines.find((l) => l.msg === 'SQS poller started')).toMatchObject({ level: 30, queueUrl: q.url, waitTimeSeconds: 1, packetSource: 'queue', kind: 'sqs' });
  });

  it('counts a message SQS would not delete as delete-failed, and warns; it is received again but not sent again', async () => {
    const q = await createQueue(sqs, 'undeletable');
    await client.hello(h);
    const { ctx, lines } = capture();
    const c = new SQSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    let spoiled = false;
    c.middlewareStack.add((next, context) => async (args) => {
      const input = args.input as { Entries?: { ReceiptHandle: string }[] };
      if (context.commandName === 'DeleteMessageBatchCommand' && !spoiled) { spoiled = true; input.Entries![0]!.ReceiptHandle = 'not-a-receipt-handle'; }
      return next(args);
    }, { step: 'initialize', name: 'spoilDelete' });
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'kept' }], { client: sqs });
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, visibilityTimeout: 0, maxRememberedMessageIds: 10 }, ctx, { client: c });
    await poller.start();
    await eventually(async () => (await outcome('delete-failed')) === 1 && (await outcome('duplicate')) >= 1);
    expect(lines.find((l) => l.outcome === 'delete-failed')).toMatchObject({ msg: 'SQS message could not be deleted; it will be received again', messageId: expect.any(String), code: expect.any(String) });
    expect(await receivedBeforeMarker(h, client)).toEqual(['kept']);
    await poller.close();
    poller = undefined;
    c.destroy();
  });

  it('a message with one packet sent and one expired is delivered (not expired) and deleted; the expired packet is counted', async () => {
    const q = await createQueue(sqs, 'mixed');
    await client.hello(h);
    const { ctx, lines } = capture('debug');
    await sendPackets({ queueUrl: q.url }, [
      { address: '127.0.0.1', port: client.port, data: 'too-late', expiresAt: new Date(Date.now() - 60_000) },
      { address: '127.0.0.1', port: client.port, data: 'in-time', ttlSeconds: 300 },
    ], { client: sqs }); // one message, both packets
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, visibilityTimeout: 60, maxRememberedMessageIds: 10 }, ctx, { client: sqs });
    await poller.start();
    await eventually(async () => (await outcome('delivered')) === 1);
    expect(await outcome('expired')).toBe(0);
    expect(await receivedBeforeMarker(h, client)).toEqual(['in-time']);
    expect(lines.filter((l) => l.outcome === 'delivered').map((l) => [l.level, l.msg, l.sent, l.refused, l.receiveCount])).toEqual([[20, 'SQS message handled', 1, ['expired'], '1']]);
    await eventually(async () => { const c = await queueCounts(q.url); return c.visible === 0 && c.inFlight === 0; });
  });

  it('a message whose only packet expired is logged at debug as expired, with its MessageId, and deleted', async () => {
    const q = await createQueue(sqs, 'expired-log');
    await client.hello(h);
    const { ctx, lines } = capture('debug');
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'too-late', expiresAt: new Date(Date.now() - 60_000) }], { client: sqs });
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, visibilityTimeout: 60, maxRememberedMessageIds: 10 }, ctx, { client: sqs });
    await poller.start();
    await eventually(async () => (await outcome('expired')) === 1);
    const line = lines.find((l) => l.outcome === 'expired')!;
    expect([line.level, line.msg, line.envelope, line.sent, line.refused, line.receiveCount]).toEqual([20, 'SQS message handled', 'raw', 0, ['expired'], '1']);
    expect(line.messageId).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(async () => { const c = await queueCounts(q.url); return c.visible === 0 && c.inFlight === 0; });
  });

  it('a duplicate is logged at debug with its MessageId and the message it repeats', async () => {
    const q = await createQueue(sqs, 'dup-log');
    await client.hello(h);
    const { ctx, lines } = capture('debug');
    const c = failing((cmd, n) => cmd === 'DeleteMessageBatchCommand' && n === 1);
    poller = createSqsSource('queue', { queueUrl: q.url, waitTimeSeconds: 1, maxMessages: 10, visibilityTimeout: 0, maxRememberedMessageIds: 10 }, ctx, { client: c });
    await sendPackets({ queueUrl: q.url }, [{ address: '127.0.0.1', port: client.port, data: 'once' }], { client: sqs });
    await poller.start();
    await eventually(async () => (await outcome('duplicate')) === 1);
    await poller.close();
    poller = undefined;
    c.destroy();
    const first = lines.find((l) => l.outcome === 'delivered')!;
    const dup = lines.find((l) => l.outcome === 'duplicate')!;
    expect([dup.level, dup.msg, dup.messageId, dup.receiveCount]).toEqual([20, 'SQS message already handled; deleting it again', first.messageId, '2']);
  });

  it('close() destroys the SQS client it made, never one it was given', async () => {
    const q = await createQueue(sqs, 'owned');
    const destroy = vi.spyOn(SQSClient.prototype, 'destroy');
    try {
      const given = createSqsSource('given', { queueUrl: q.url, waitTimeSeconds: 0, maxMessages: 1, maxRememberedMessageIds: 10 }, h.ctx, { client: sqs });
      const own = createSqsSource('own', { queueUrl: q.url, endpoint: moto.endpoint, region: 'us-east-1', waitTimeSeconds: 0, maxMessages: 1, maxRememberedMessageIds: 10 }, h.ctx);
      await given.start();
      await own.start();
      await eventually(async () => (given.status!() as { polls: number }).polls >= 1 && (own.status!() as { polls: number }).polls >= 1);
      await given.close();
      expect(destroy).not.toHaveBeenCalled();
      await own.close();
      expect(destroy).toHaveBeenCalledTimes(1);
      expect(destroy.mock.contexts[0]).not.toBe(sqs);
    } finally { destroy.mockRestore(); }
    // the given client still works
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.url, WaitTimeSeconds: 0 }));
    expect(out.Messages ?? []).toEqual([]);
  });

  it('each backoff leaves no abort listener behind on the poller\'s signal', async () => {
    // A client whose every receive fails at once (no network), recording the listeners on the signal it is given.
    const listeners: number[] = [];
    const down = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, requestHandler: {
      handle: async (_req: unknown, o: { abortSignal?: AbortSignal }) => { listeners.push(getEventListeners(o.abortSignal as unknown as EventTarget, 'abort').length); throw new Error('down'); },
    } as never });
    poller = createSqsSource('queue', { queueUrl: 'http://127.0.0.1:9/000000000000/q', waitTimeSeconds: 1, maxMessages: 10, maxRememberedMessageIds: 10 }, h.ctx, { client: down });
    await poller.start();
    await eventually(async () => listeners.length >= 3); // after backoffs of 500 and 1,000 ms
    await poller.close();
    poller = undefined;
    down.destroy();
    expect(listeners.slice(0, 3)).toEqual([0, 0, 0]);
  });
});
