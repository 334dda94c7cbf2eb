import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createHttpDestination, type HttpOptions } from '../../destinations/http/index.js';
import type { Destination } from '../../gateway/extension/destination.js';
import { httpKind } from '../../destinations/http/manifest.js';
import type { GatewayEvent } from '../../gateway/wire/event.js';
import { context, never, packet } from './helpers.js';

interface Seen { headers: http.IncomingHttpHeaders; body: GatewayEvent; port: number }
type Answer = (event: GatewayEvent, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
const open: Destination[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close?.()));
  for (const s of servers.splice(0)) { s.closeAllConnections(); s.close(); }
});

/** A real HTTP server on 127.0.0.1:0 that records each request and answers with `answer`. */
async function server(answer: Answer): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as GatewayEvent;
      seen.push({ headers: req.headers, body, port: req.socket.remotePort ?? 0 });
      answer(body, res);
    });
  });
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/ingest`, seen };
}

function dest(options: HttpOptions): Destination {
  const d = createHttpDestination('web', options, context('/'));
  open.push(d);
  return d;
}

const status = (code: number, body = ''): Answer => (_e, res) => { res.statusCode = code; res.end(body); };

describe('http destination', () => {
  it('POSTs the Messages event as JSON and relays the Replies of a 2xx answer', async () => {
    const srv = await server((event, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Replies: event.Messages.map((m) => ({ Tag: m.Tag, Data: Buffer.from(`ack ${m.Data}`).toString('hex') })) }));
    });
    const d = dest({ url: srv.url, headers: { authorization: 'Bearer t0k3n' } });
    const a = packet('one', { formatter: 'hex' }), b = packet('two', { formatter: 'hex' });
    const r = await d.sendBatch([a, b], never);
    expect(r.outcomes).toEqual([{ status: 'delivered' }, { status: 'delivered' }]);
    expect(r.replies).toEqual([{ tag: a.tag, data: Buffer.from(`ack ${Buffer.from('one').toString('hex')}`) }, { tag: b.tag, data: Buffer.from(`ack ${Buffer.from('two').toString('hex')}`) }]);
    expect(srv.seen[0]!.headers['content-type']).toBe('application/json');
    expect(srv.seen[0]!.headers.authorization).toBe('Bearer t0k3n');
    expect(srv.seen[0]!.body.Messages.map((m) => m.Tag)).toEqual([a.tag, b.tag]);
    expect(srv.seen[0]!.body.Messages[0]).toMatchObject({ Formatter: 'hex', Local: { Domain: 'edge', Protocol: 'udp' } });
  });

  it('reuses one keep-alive connection for consecutive batches', async () => {
    const srv = await server(status(204));
    const d = dest({ url: srv.url });
    const r = await d.sendBatch([packet('a')], never);
    await d.sendBatch([packet('b')], never);
    expect(r).toEqual({ outcomes: [{ status: 'delivered' }] });
    expect(srv.seen[1]!.port).toBe(srv.seen[0]!.port);
  });

  it('maps 500 and 429 to retryable and 400 to failed with the status', async () => {
    const codes = [500, 429, 400];
    const srv = await server((_e, res) => { res.statusCode = codes[srv.seen.length - 1]!; res.end('nope'); });
    const d = dest({ url: srv.url });
    const got = [];
    for (let i = 0; i < codes.length; i++) got.push((await d.sendBatch([packet('x'), packet('y')], never)).outcomes);
    expect(got[0]).toEqual([{ status: 'retryable', reason: 'http 500' }, { status: 'retryable', reason: 'http 500' }]);
    expect(got[1]![0]).toEqual({ status: 'retryable', reason: 'http 429' });
    expect(got[2]![0]).toMatchObject({ status: 'failed' });
    expect((got[2]![0] as { reason: string }).reason).toContain('400');
  });

  it('reports a timeout as retryable and serves the next batch', async () => {
    let calls = 0;
    const srv = await server((_e, res) => { if (++calls > 1) res.end(); });
    const d = dest({ url: srv.url, timeoutMs: 150 });
    const r = await d.sendBatch([packet('slow')], never);
    expect(r.outcomes[0]).toMatchObject({ status: 'retryable' });
    expect((r.outcomes[0] as { reason: string }).reason).toContain('timeout');
    expect((await d.sendBatch([packet('fast')], never)).outcomes).toEqual([{ status: 'delivered' }]);
  });

  it('reports a refused connection as retryable', async () => {
    const srv = await server(status(200));
    const url = srv.url;
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    const r = await dest({ url }).sendBatch([packet('x')], never);
    expect(r.outcomes[0]).toMatchObject({ status: 'retryable' });
    expect((r.outcomes[0] as { reason: string }).reason).toContain('ECONNREFUSED');
  });

  it('delivers but sends no replies when a 2xx answer is not JSON', async () => {
    const srv = await server(status(200, 'OK'));
    const d = dest({ url: srv.url });
    expect(await d.sendBatch([packet('x')], never)).toEqual({ outcomes: [{ status: 'delivered' }] });
    expect(d.status?.()).toMatchObject({ unparsedAnswers: 1, url: srv.url });
  });

  it('has the documented defaults and refuses a non-http URL in its schema', () => {
    const p = httpKind.options.properties;
    expect([p.timeoutMs.default, p.maxBatchPackets.default]).toEqual([5_000, 100]);
    expect(new RegExp(p.url.pattern!).test('ftp://x')).toBe(false);
  });
});
