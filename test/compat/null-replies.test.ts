/**
 * Handlers written for the hosted reference service answer `null` for a message that gets no reply
 * (its packet-counter example does), leave entries out, or answer `Replies: null`. Every path that
 * reads replies treats these as "nothing to send", silently: no rejection, no counter, no warning.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaClient, InvokeCommand, InvokeWithResponseStreamCommand } from '@aws-sdk/client-lambda';
import { SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { parseReplies } from '../../gateway/wire/event.js';
import { parseEgressDocument } from '../../gateway/wire/egress-message.js';
import { deliverDocument, isMalformed, needsAttention } from '../../gateway/out-of-band/deliver.js';
import { createHandlerDestination } from '../../destinations/handler/index.js';
import { createHttpDestination } from '../../destinations/http/index.js';
import { createLambdaDestination } from '../../destinations/lambda/index.js';
import { createStepFunctionsDestination } from '../../destinations/stepfunctions/index.js';
import { ReplyStreamParser } from '../../destinations/lambda/reply-stream.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { dgramTransport } from '../../net/dgram.js';
import { useFakeAwsEnv } from '../aws/moto.js';
import { RecordingClients, never, packet } from '../destinations-local/helpers.js';
import type { Destination } from '../../gateway/extension/destination.js';
import '../support/memory-destination.js';

/** A pino logger whose lines (level >= warn) are kept, to prove nothing was logged. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { logger: pino({ level: 'debug' }, stream), warnings: () => lines.filter((l) => (l.level as number) >= 40) };
}

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

/** Two packets; the answer replies to the second only, with the first entry `null`. */
function twoPackets() {
  const batch = [packet('first', { remote: { address: '127.0.0.1', port: 40001 } }), packet('second', { remote: { address: '127.0.0.1', port: 40002 } })];
  const answer = { Replies: [null, { Tag: batch[1]!.tag, Data: Buffer.from('ok').toString('base64') }] };
  return { batch, answer };
}

describe('null and missing replies mean nothing to send', () => {
  it('parseReplies: null and undefined entries, holes and Replies: null are skipped, not rejected', () => {
    const sparse: unknown[] = [];
    sparse[2] = { Tag: 'T', Data: 'aGk=' };
    for (const body of [{ Replies: [null, { Tag: 'T', Data: 'aGk=' }, undefined] }, { Replies: sparse }]) {
      expect(parseReplies(body)).toEqual({ replies: [{ tag: 'T', data: Buffer.from('hi') }], rejected: [] });
    }
    expect(parseReplies({ Replies: null })).toEqual({ replies: [], rejected: [] });
    expect(parseReplies({ Replies: [null, null] })).toEqual({ replies: [], rejected: [] });
    // Still rejected: things that are not replies at all.
    expect(parseReplies({ Replies: [42, 'x', []] }).rejected.map((r) => r.reason)).toEqual(['reply is not an object', 'reply is not an object', 'reply is not an object']);
  });

  it('handler: the reference service packet-counter style (null per message) sends the one real reply and warns about nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-null-'));
    writeFileSync(join(dir, 'counter.mjs'), `let count = 0;
export const handler = async (event) => ({
  Replies: event.Messages.map((m) => (++count % 2 === 0 ? { Tag: m.Tag, Data: Buffer.from('count ' + count).toString('base64') } : null)),
});
`);
    const { logger, warnings } = capturingLogger();
    const clients = new RecordingClients();
    const d = await createHandlerDestination('h', { module: 'counter.mjs', workers: 1 }, { logger, clients, baseDir: dir });
    cleanup.push(() => d.close?.());
    const { batch } = twoPackets();
    const r = await d.sendBatch(batch, never);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered']);
    expect(r.replies).toEqual([{ tag: batch[1]!.tag, data: Buffer.from('count 2') }]);
    expect(d.status?.()).toMatchObject({ repliesRejected: 0 });
    const n = await d.sendBatch([packet('only')], never);
    expect(n.replies ?? []).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  it('handler: Replies: null sends nothing, silently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-null-'));
    writeFileSync(join(dir, 'none.mjs'), 'export const handler = async () => ({ Replies: null });\n');
    const { logger, warnings } = capturingLogger();
    const d = await createHandlerDestination('h', { module: 'none.mjs', workers: 1 }, { logger, clients: new RecordingClients(), baseDir: dir });
    cleanup.push(() => d.close?.());
    const r = await d.sendBatch([packet('x')], never);
    expect(r.replies ?? []).toEqual([]);
    expect(warnings()).toEqual([]);
  });

  it('http: an answer with null entries sends the real reply and warns about nothing', async () => {
    const { batch, answer } = twoPackets();
    const server: Server = createServer((req, res) => { req.resume(); req.on('end', () => res.end(JSON.stringify(answer))); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
    const { logger, warnings } = capturingLogger();
    const d = createHttpDestination('web', { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` }, { logger, clients: new RecordingClients(), baseDir: '/tmp' });
    cleanup.push(() => d.close?.());
    const r = await d.sendBatch(batch, never);
    expect(r.replies).toEqual([{ tag: batch[1]!.tag, data: Buffer.from('ok') }]);
    expect(d.status?.()).toMatchObject({ repliesRejected: 0 });
    expect(warnings()).toEqual([]);
  });

  describe('AWS request/response kinds (aws-sdk-client-mock: moto runs no function code)', () => {
    useFakeAwsEnv();
    const open = (d: Destination) => { cleanup.push(() => d.close?.()); return d; };

    it('lambda RequestResponse', async () => {
      const { batch, answer } = twoPackets();
      const m = mockClient(LambdaClient); cleanup.push(() => m.restore());
      m.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(answer)) as never });
      const { logger, warnings } = capturingLogger();
      const d = open(createLambdaDestination('l', { functionName: 'f', invocation: 'RequestResponse' }, { logger, clients: new RecordingClients() }));
      expect((await d.sendBatch(batch, never)).replies).toEqual([{ tag: batch[1]!.tag, data: Buffer.from('ok') }]);
      m.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from('{"Replies":null}') as never });
      expect((await d.sendBatch(batch, never)).replies ?? []).toEqual([]);
      expect(warnings()).toEqual([]);
    });

    it('lambda ResponseStream: a null line is no reply', async () => {
      const { batch } = twoPackets();
      const emitted: unknown[] = [];
      const p = new ReplyStreamParser((r) => emitted.push(r), () => 'base64');
      p.push(Buffer.from(`null\n{"Tag":"${batch[1]!.tag}","Data":"b2s="}\n{"Replies":[null]}\n`));
      p.end();
      expect([emitted.length, p.rejected]).toEqual([1, 0]);
      const m = mockClient(LambdaClient); cleanup.push(() => m.restore());
      m.on(InvokeWithResponseStreamCommand).resolves({ StatusCode: 200, EventStream: (async function* () {
        yield { PayloadChunk: { Payload: Buffer.from('null\n{"Replies":[null]}\n') } };
        yield { InvokeComplete: {} };
      })() as never });
      const { logger, warnings } = capturingLogger();
      const d = open(createLambdaDestination('l', { functionName: 'f', invocation: 'ResponseStream' }, { logger, clients: new RecordingClients() }));
      expect((await d.sendBatch(batch, never)).outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered']);
      expect(warnings()).toEqual([]);
    });

    it('stepfunctions EXPRESS', async () => {
      const { batch, answer } = twoPackets();
      const m = mockClient(SFNClient); cleanup.push(() => m.restore());
      m.on(StartSyncExecutionCommand).resolves({ status: 'SUCCEEDED', output: JSON.stringify(answer) });
      const { logger, warnings } = capturingLogger();
      const d = open(createStepFunctionsDestination('s', { stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:x', executionType: 'EXPRESS' }, { logger }));
      expect((await d.sendBatch(batch, never)).replies).toEqual([{ tag: batch[1]!.tag, data: Buffer.from('ok') }]);
      expect(warnings()).toEqual([]);
    });
  });

  it('packet sources (SNS, SQS: one delivery path): a document of null replies is neither malformed nor worth a DLQ', () => {
    for (const body of ['{"Replies":[null]}', '{"Replies":null}', { Replies: [null, undefined] }]) {
      const doc = parseEgressDocument(body);
      expect(doc).toEqual({ packets: [], replies: [], rejected: [] });
      const report = deliverDocument(body, { egress: { sendOutOfBand: () => ({ ok: true }), reply: () => ({ ok: true }), formatterOfTag: () => undefined } as never, listener: 'edge' });
      if (report instanceof Error) throw report;
      expect([isMalformed(report), needsAttention(report), report.rejected]).toEqual([false, false, []]);
    }
  });

  it('admin API: POST /v1/send with null replies answers 200 with nothing rejected', async () => {
    const cfg = resolveConfig({ secret: 'null-replies-secret-0123456789', listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', mode: 'echo', prefix: `nr-${Math.random()}` }] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }), transport: dgramTransport });
    const admin = buildAdminApi(gw, { token: 'sekrit-token' });
    cleanup.push(() => gw.close(), () => admin.close());
    for (const payload of [{ Replies: [null] }, { Replies: null }]) {
      const r = await admin.inject({ method: 'POST', url: '/v1/send', headers: { authorization: 'Bearer sekrit-token' }, payload });
      expect([r.statusCode, r.json()]).toEqual([200, { messages: [], replies: [], rejected: [] }]);
    }
  });
});
