/** Egress counts a datagram as sent only when the socket took it: a transport refusal is a counted refusal. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import '../support/memory-destination.js';
import { UdpClient } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { dgramTransport } from '../../net/dgram.js';
import { nativeTransport } from '../../net/native.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import type { TransportFactory } from '../../gateway/extension/transport.js';

const log = pino({ level: 'silent' });
let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { for (const o of open.splice(0)) await o.close(); });

const transports: [string, TransportFactory][] = [['dgram', dgramTransport]];
if (loadNativeAddon().addon) transports.push(['native', nativeTransport]);

const counter = async (gw: Gateway, name: string, labels: Record<string, string>) =>
  (await gw.metrics.registry.getSingleMetric(name)!.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);

describe.each(transports)('egress over the %s transport', (_name, transport) => {
  it('a datagram the socket refuses (over the UDP maximum) is refused and counted, not counted as sent', async () => {
    const cfg = resolveConfig({ secret: 'egress-test-secret-0123456789', egress: { allow: ['127.0.0.0/8'] },
      listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [{ type: 'memory', prefix: `egr-${Math.random()}` }] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: log, transport });
    const c = await UdpClient.open();
    open.push(c, gw);
    const remote = { address: '127.0.0.1', port: c.port };
    for (const bytes of [70_000, 65_520]) {
      expect(gw.egress.sendOutOfBand({ remote, data: Buffer.alloc(bytes) }, 'edge')).toEqual({ ok: false, reason: 'transport-refused' });
    }
    const tag = gw.codec.encode('edge', remote, Date.now());
    expect(gw.egress.reply(tag, Buffer.alloc(70_000))).toEqual({ ok: false, reason: 'transport-refused' });
    expect(gw.egress.sendOutOfBand({ remote, data: Buffer.from('fits') }, 'edge')).toEqual({ ok: true });
    expect(gw.egress.reply(tag, Buffer.from('reply'))).toEqual({ ok: true });
    const got = await c.waitFor(2);
    expect(got.map((r) => r.data.toString()).sort()).toEqual(['fits', 'reply']);
    expect(await counter(gw, 'udpgw_packets_sent_total', { listener: 'edge' })).toBe(2);
    expect(await counter(gw, 'udpgw_bytes_sent_total', { listener: 'edge' })).toBe(9);
    expect(await counter(gw, 'udpgw_egress_refused_total', { reason: 'transport-refused', path: 'out_of_band' })).toBe(2);
    expect(await counter(gw, 'udpgw_egress_refused_total', { reason: 'transport-refused', path: 'reply' })).toBe(1);
  });
});
