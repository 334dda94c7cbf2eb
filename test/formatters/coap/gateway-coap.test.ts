/**
 * The coap formatter in the gateway, against libcoap's coap-client: a handler sees the parsed
 * request as Data and answers in the same shape; the gateway encodes the answer to CoAP bytes.
 * A datagram that is not CoAP is a counted drop with the codec's reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { UdpClient, eventually } from '../../support/udp-client.js';
import { resolveConfig } from '../../../app/config/load.js';
import { createGateway, type Gateway } from '../../../app/gateway.js';

const CLIENT = ['coap-client', 'coap-client-notls'].find((c) => { try { execFileSync('which', [c]); return true; } catch { return false; } });
const HANDLER = fileURLToPath(new URL('./fixtures/coap-handler.mjs', import.meta.url));

function coap(args: string[]): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve) => {
    execFile(CLIENT!, args, { timeout: 15_000 }, (err, stdout) => resolve({ stdout: stdout.trim(), code: err ? ((err as { code?: number }).code ?? 1) : 0 }));
  });
}

describe('the coap formatter through the gateway', () => {
  let gw: Gateway;
  beforeAll(async () => {
    expect(CLIENT, 'coap-client is missing: .ci/run installs libcoap3-bin').toBeDefined();
    gw = await createGateway(resolveConfig({
      secret: 'coap-test-secret-0123456789abcdef', admin: { enabled: false },
      listeners: [{ name: 'coap', host: '127.0.0.1', port: 0, formatter: 'coap', destinations: [{ type: 'handler', module: HANDLER }] }],
    }, '/tmp'), { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => { await gw?.close(); });

  it('coap-client GETs a resource from a handler and prints its payload', async () => {
    const r = await coap(['-m', 'get', `coap://127.0.0.1:${gw.address('coap').port}/temperature`]);
    expect(r).toEqual({ stdout: '21.5 C from 127.0.0.1', code: 0 });
  });

  it('a datagram that is not CoAP is dropped with the codec\'s reason, and counted', async () => {
    const c = await UdpClient.open();
    try {
      await c.send(Buffer.from([0x80, 0x01]), gw.address('coap').port); // two bytes: shorter than a CoAP header
      const value = async () => (await gw.metrics.registry.getSingleMetric('udpgw_drops_total')!.get()).values
        .find((v) => v.labels.where === 'coap' && String(v.labels.reason).startsWith('coap-'))?.value ?? 0;
      await eventually(async () => (await value()) === 1);
      const reasons = (await gw.metrics.registry.getSingleMetric('udpgw_drops_total')!.get()).values.filter((v) => v.labels.where === 'coap').map((v) => v.labels.reason);
      expect(reasons).toEqual(['coap-too-short']);
    } finally { await c.close(); }
  });
});
