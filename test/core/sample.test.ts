/** Sampling on any destination (`sample: { every: N }`), a wrapper in the fan-out: real client, listener and memory destinations. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { recorded } from '../support/memory-destination.js';

const packets = (key: string) => (recorded.get(key) ?? []).flat();
import { UdpClient, eventually } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { dgramTransport } from '../../net/dgram.js';
import { ConfigError } from '../../gateway/errors.js';

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { await Promise.all(open.splice(0).map((o) => o.close())); });

describe('sample', () => {
  it('one packet in N reaches a sampled destination, every packet the others; the rest are counted as sampled-out', async () => {
    const prefix = `sample-${Math.random()}-`;
    const cfg = resolveConfig({ secret: 'sample-test-secret-0123456789', listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [
      { name: 'all', type: 'memory', prefix },
      { name: 'some', type: 'memory', prefix, sample: { every: 4 } },
    ] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }), transport: dgramTransport });
    open.push(gw);
    const c = await UdpClient.open(); open.push(c);
    for (let i = 1; i <= 12; i++) await c.send(`p${i}`, gw.address().port);
    await eventually(() => packets(`${prefix}all`).length === 12);
    await eventually(() => packets(`${prefix}some`).length === 3);
    expect(packets(`${prefix}some`).map((p) => p.data.toString())).toEqual(['p4', 'p8', 'p12']);
    const drops = (await gw.metrics.registry.getSingleMetric('udpgw_drops_total')!.get()).values;
    expect(drops.find((v) => v.labels.reason === 'sampled-out')).toMatchObject({ labels: { where: 'edge/some' }, value: 9 });
  });

  it('refuses sample on a dead-letter target and a zero, naming the path', () => {
    const bad = (d: Record<string, unknown>) => { try { resolveConfig({ listeners: [{ name: 'l', port: 0, destinations: [{ type: 'memory', ...d }] }] }, '/'); return []; } catch (e) { return (e as ConfigError).problems.map((p) => p.path); } };
    expect(bad({ sample: { every: 0 } })).toEqual(['/listeners/0/destinations/0/sample/every']);
    expect(bad({ deadLetter: { type: 'memory', sample: { every: 2 } } })).toEqual(['/listeners/0/destinations/0/deadLetter/sample']);
  });
});
