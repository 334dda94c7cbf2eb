/**
 * Against a CoAP client nobody here wrote: libcoap's coap-client (Debian libcoap3-bin) asks a
 * tiny UDP server on 127.0.0.1 that answers with this codec. The server sees the request as
 * the formatter's JSON; its answers are JSON encoded back to CoAP.
 */
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coapText, coapUint, encodeCoap, parseCoap, readCoapText, type CoapJson } from '../../../formatters/coap/index.js';

const CLIENT = ['coap-client', 'coap-client-notls'].find((c) => { try { execFileSync('which', [c]); return true; } catch { return false; } });
const CONTENT_FORMAT = 12;
const TEXT_PLAIN = 0;

function run(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(CLIENT!, args, { timeout: 10_000 }, (err, stdout, stderr) => resolve({ stdout: stdout.trim(), stderr: stderr.trim(), code: err ? ((err as { code?: number }).code ?? 1) : 0 }));
  });
}

describe('CoAP codec against libcoap coap-client', () => {
  let server: dgram.Socket;
  let port: number;
  const requests: CoapJson[] = [];

  beforeEach(async () => {
    expect(CLIENT, 'coap-client is missing: .ci/run installs libcoap3-bin').toBeDefined();
    requests.length = 0;
    server = dgram.createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      const parsed = parseCoap(msg);
      if (!parsed.ok) return;
      const req = parsed.json;
      requests.push(req);
      const found = req.Path === '/hello';
      const answer: CoapJson = {
        Type: req.Type === 0 ? 'ACK' : 'NON', Code: !found ? '4.04' : req.Method === 'GET' ? '2.05' : '2.04',
        MessageId: req.MessageId, Token: req.Token,
        Options: found && req.Method === 'GET' ? [{ Number: CONTENT_FORMAT, Value: coapUint(TEXT_PLAIN) }] : [],
        Payload: found && req.Method === 'GET' ? coapText('world') : '',
      };
      const out = encodeCoap(answer);
      if (out.ok) server.send(out.datagram, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    port = server.address().port;
  });

  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('answers a confirmable GET: coap-client prints the payload', async () => {
    const { stdout, code } = await run(['-m', 'get', `coap://127.0.0.1:${port}/hello`]);
    expect({ stdout, code }).toEqual({ stdout: 'world', code: 0 });
    expect(requests[0]).toMatchObject({ Version: 1, Type: 0, Code: 1, Method: 'GET', Path: '/hello' });
    expect(Buffer.from(requests[0]!.Token!, 'base64').length).toBeGreaterThan(0);
  });

  it('sees a PUT with a payload and a query as options, and a non-confirmable request', async () => {
    const { code } = await run(['-m', 'put', '-N', '-e', 'temperature=21', `coap://127.0.0.1:${port}/hello?unit=c`]);
    expect(code).toBe(0);
    const req = requests[0]!;
    expect(req).toMatchObject({ Type: 1, Code: 3, Method: 'PUT', Path: '/hello' });
    expect(readCoapText(req.Payload!)).toBe('temperature=21');
    expect(req.Options!.filter((o) => o.Number === 15).map((o) => readCoapText(o.Value))).toEqual(['unit=c']); // Uri-Query
  });

  it('a 4.04 answer makes coap-client report the code', async () => {
    const { stdout, stderr } = await run(['-m', 'get', `coap://127.0.0.1:${port}/nothing`]);
    expect({ stdout, stderr }).toEqual({ stdout: '', stderr: '4.04' });
  });
});
