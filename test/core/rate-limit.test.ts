/** Per-client rate limits on a listener, and the strict (address and port) egress policy. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { recorded } from '../support/memory-destination.js';
import { UdpClient, eventually } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { ClientRateLimiter } from '../../gateway/client-rate-limit.js';
import { dgramTransport } from '../../net/dgram.js';

const log = pino({ level: 'silent' });
let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { for (const o of open.splice(0)) await o.close(); });

const counter = async (gw: Gateway, name: string, labels: Record<string, string> = {}) =>
  (await gw.metrics.registry.getSingleMetric(name)!.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);

describe('ClientRateLimiter', () => {
  it('a token bucket per address for packets, refilled by time, with a burst of burstSeconds', () => {
    const l = new ClientRateLimiter({ packetsPerSecond: 10, burstSeconds: 1, maxClients: 10 });
    const run = (address: string, n: number, t: number) => Array.from({ length: n }, () => l.take(address, 1, t));
    expect(run('10.0.0.1', 10, 0).every((r) => r === undefined)).toBe(true);
    expect(l.take('10.0.0.1', 1, 0)).toBe('client-packet-rate');
    expect(l.take('10.0.0.2', 1, 0)).toBeUndefined(); // another client has its own bucket
    expect(l.take('10.0.0.1', 1, 99)).toBe('client-packet-rate');
    expect(l.take('10.0.0.1', 1, 100)).toBeUndefined();
    expect(run('10.0.0.1', 11, 10_000).filter((r) => r === undefined)).toHaveLength(10); // never more than the burst
  });

  it('bytes per second, with packets and bytes each limiting', () => {
    const l = new ClientRateLimiter({ packetsPerSecond: 100, bytesPerSecond: 1000, burstSeconds: 2, maxClients: 10 });
    expect([l.take('a', 800, 0), l.take('a', 800, 0), l.take('a', 800, 0)]).toEqual([undefined, undefined, 'client-byte-rate']);
    expect(l.take('a', 400, 0)).toBeUndefined(); // 400 left of the 2,000-byte burst
    expect(l.take('a', 1, 0)).toBe('client-byte-rate');
    expect(l.take('a', 500, 500)).toBeUndefined();
  });

  it('remembers at most maxClients, the least recently seen forgotten first', () => {
    const l = new ClientRateLimiter({ packetsPerSecond: 1, burstSeconds: 1, maxClients: 2 });
    expect([l.take('a', 1, 0), l.take('b', 1, 1), l.take('a', 1, 2)]).toEqual([undefined, undefined, 'client-packet-rate']);
    expect(l.take('c', 1, 3)).toBeUndefined(); // forgets b (a was seen later)
    expect(l.clients).toBe(2);
    expect(l.take('a', 1, 4)).toBe('client-packet-rate');
  });
});

describe('listener rateLimit', () => {
  it('one client flooding from many ports cannot starve another: its excess is dropped and counted', async () => {
    const prefix = `rl-${Math.random()}-`;
    const cfg = resolveConfig({ secret: 'rate-limit-secret-0123456789', listeners: [{ name: 'edge', host: '127.0.0.1', port: 0,
      receiveBufferBytes: 4_194_304, rateLimit: { packetsPerSecond: 50, burstSeconds: 1 }, destinations: [{ name: 'm', type: 'memory', prefix, queue: { maxPackets: 100_000 } }] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: log, transport: dgramTransport });
    open.push(gw);
    const port = gw.address().port;
    const flooders = await Promise.all(Array.from({ length: 5 }, () => UdpClient.open('127.0.0.1')));
    const polite = await UdpClient.open('127.0.0.2');
    open.push(...flooders, polite);
    const started = Date.now();
    for (let i = 0; i < 100; i++) await Promise.all(flooders.map((f, k) => f.send(`flood-${k}-${i}`, port)));
    for (let i = 0; i < 5; i++) await polite.send(`polite-${i}`, port, '127.0.0.1');
    const elapsedS = (Date.now() - started) / 1000;
    await eventually(async () => (await counter(gw, 'udpgw_packets_received_total')) === 505);
    const dropped = await counter(gw, 'udpgw_drops_total', { where: 'edge', reason: 'client-packet-rate' });
    await eventually(() => (recorded.get(`${prefix}m`)?.flat().length ?? 0) === 505 - dropped);
    const got = recorded.get(`${prefix}m`)!.flat();
    expect(got.filter((p) => p.remote.address === '127.0.0.2').map((p) => p.data.toString())).toEqual(['polite-0', 'polite-1', 'polite-2', 'polite-3', 'polite-4']);
    const flood = got.filter((p) => p.remote.address === '127.0.0.1').length;
    expect(flood).toBeGreaterThanOrEqual(50);
    expect(flood).toBeLessThanOrEqual(50 + Math.ceil(50 * (elapsedS + 0.5)));
    expect(flood + dropped).toBe(500);
  });
});

describe('egress policy address-port', () => {
  it('sends out of band only to the port a client sent from; the default policy allows any port of the address', async () => {
    for (const policy of ['address-port', 'address'] as const) {
      const cfg = resolveConfig({ secret: 'rate-limit-secret-0123456789', egress: { policy },
        listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [{ type: 'memory', prefix: `eg-${Math.random()}` }] }] }, '/tmp');
      const gw = await createGateway(cfg, { logger: log, transport: dgramTransport });
      const seen = await UdpClient.open(), other = await UdpClient.open();
      open.push(gw, seen, other);
      await seen.send('hello', gw.address().port);
      await eventually(async () => (await counter(gw, 'udpgw_packets_received_total')) === 1);
      const send = (port: number) => gw.egress.sendOutOfBand({ remote: { address: '127.0.0.1', port }, data: Buffer.from('push') }, 'edge');
      expect(send(seen.port)).toEqual({ ok: true });
      expect(send(other.port)).toEqual(policy === 'address-port' ? { ok: false, reason: 'address-refused' } : { ok: true });
      await seen.waitFor(1);
      if (policy === 'address') await other.waitFor(1);
    }
  });
});
