/**
 * The native transport under the whole gateway: the udp proxy path (client -> gateway -> backend
 * -> reply by tag -> client) and IPv6, on real sockets. Registered where the addon is required
 * (see native.test.ts for the policy).
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import '../../app/builtin-kinds.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { nativeTransport } from '../../net/native.js';
import { selectTransport } from '../../net/select.js';
import { UdpClient } from '../support/udp-client.js';

const required = process.platform === 'linux' && process.env.UDPGW_TRANSPORT !== 'dgram';
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

async function echoBackend(type: 'udp4' | 'udp6', host: string): Promise<number> {
  const backend = createSocket(type);
  backend.on('message', (m, r) => backend.send(`backend:${m.toString()}`, r.port, r.address));
  backend.bind(0, host);
  await once(backend, 'listening');
  closers.push(() => { backend.close(); });
  return backend.address().port;
}

async function proxyGateway(host: string, backendPort: number) {
  const backendHost = host.includes(':') ? `[${host}]` : host;
  const cfg = resolveConfig({
    secret: 'native-e2e-secret-0123456789abcdef', admin: { enabled: false },
    listeners: [{ name: 'edge', host, port: 0, destinations: [{ name: 'proxy', type: 'udp', backends: [`${backendHost}:${backendPort}`] }] }],
  }, process.cwd());
  const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }), transport: nativeTransport });
  closers.push(() => gw.close());
  return gw;
}

describe('gateway on the native transport', () => {
  it.runIf(!required)('is not required here: auto selection falls back to a working transport', () => {
    expect(['native', 'dgram']).toContain(selectTransport('auto', { info: () => {} }).kind);
  });

  // Registered everywhere, skipped (and reported as skipped) where the addon is not required.
  for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
    it.skipIf(!required)(`${type}: udp proxy round trip, replies leave from the listener port`, async () => {
      const gw = await proxyGateway(host, await echoBackend(type, host));
      expect(gw.status()).toMatchObject({ listeners: [{ transport: 'native' }] });
      const client = await UdpClient.open(host);
      closers.push(() => client.close());
      for (const m of ['one', 'two', 'three']) await client.send(m, gw.address().port, host);
      const got = await client.waitFor(3);
      expect(got.map((r) => r.data.toString()).sort()).toEqual(['backend:one', 'backend:three', 'backend:two']);
      expect(got.every((r) => r.port === gw.address().port && r.address === host)).toBe(true);
    });
  }
});
