/** Admin API through fastify inject, egress policy and IPv6 listeners on real sockets. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import '../support/memory-destination.js';
import { UdpClient } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { dgramTransport } from '../../net/dgram.js';

const log = pino({ level: 'silent' });
let open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { await Promise.all(open.map((o) => o.close())); open = []; });

async function setup(host = '127.0.0.1', extra: Record<string, unknown> = {}) {
  const cfg = resolveConfig({ secret: 'admin-test-secret-0123456789', ...extra, listeners: [{ name: 'edge', host, port: 0, destinations: [{ type: 'memory', mode: 'echo', prefix: `adm-${Math.random()}` }] }] }, '/tmp');
  const gw = await createGateway(cfg, { logger: log, transport: dgramTransport });
  const admin = buildAdminApi(gw, { token: 'sekrit-token' });
  open.push(admin, gw);
  return { gw, admin };
}
const auth = { authorization: 'Bearer sekrit-token' };

describe('admin API', () => {
  it('healthz, readyz and status; readyz is 503 while draining', async () => {
    const { gw, admin } = await setup();
    expect((await admin.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await admin.inject('/readyz')).statusCode).toBe(200);
    const status = (await admin.inject('/v1/status')).json();
    expect(status.listeners[0]).toMatchObject({ name: 'edge', port: gw.address().port, transport: 'dgram' });
    expect(status.destinations[0]).toMatchObject({ listener: 'edge', kind: 'memory', queued: 0, queueCapacity: 10000 });
    await gw.shutdown(100);
    const r = await admin.inject('/readyz');
    expect([r.statusCode, r.json()]).toEqual([503, { status: 'stopped' }]);
  });

  it('metrics are Prometheus text with udpgw_ series and no client addresses', async () => {
    const { gw, admin } = await setup();
    const c = await UdpClient.open(); open.push(c);
    await c.send('hello', gw.address().port);
    await c.waitFor(1);
    const text = (await admin.inject('/metrics')).body;
    expect(text).toContain('udpgw_packets_received_total{listener="edge"} 1');
    expect(text).toContain('udpgw_bytes_received_total{listener="edge"} 5');
    expect(text).toMatch(/udpgw_destination_delivery_seconds_count\{destination="edge\/memory"\} 1/);
    expect(text).not.toContain('127.0.0.1');
  });

  it('out-of-band sends reach recently seen clients from the listener port; unknown addresses are refused', async () => {
    const { gw, admin } = await setup();
    const c = await UdpClient.open(); open.push(c);
    await c.send('hi', gw.address().port);
    await c.waitFor(1); // the echo: c is now a recently seen client
    const ok = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Messages: [{ Data: 'cHVzaA==', Remote: { Address: '127.0.0.1', Port: c.port } }] } });
    expect(ok.json()).toEqual({ messages: [{ status: 'sent' }], replies: [], rejected: [] });
    const [, pushed] = await c.waitFor(2);
    expect([pushed!.data.toString(), pushed!.port]).toEqual(['push', gw.address().port]);
    const refused = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Data: 'eA==', Remote: { IP: '127.0.0.2', Port: 9 } } });
    expect([refused.statusCode, refused.json().messages]).toEqual([207, [{ status: 'refused', reason: 'address-refused' }]]);
    const expired = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Messages: [{ Data: 'eA==', Remote: { Address: '127.0.0.1', Port: c.port }, ExpiresAt: '2020-01-01T00:00:00Z' }] } });
    expect(expired.json().messages).toEqual([{ status: 'refused', reason: 'expired' }]);
    // A marker sent the same way after the refusals: a refused packet sent late would arrive before it.
    await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Messages: [{ Data: Buffer.from('marker').toString('base64'), Remote: { Address: '127.0.0.1', Port: c.port } }] } });
    const got = await c.waitFor(3);
    expect(got.map((r) => r.data.toString())).toEqual(['echo:hi', 'push', 'marker']);
  });

  it('egress.allow lets out-of-band sends reach configured networks', async () => {
    const { admin } = await setup('127.0.0.1', { egress: { allow: ['127.0.0.0/8'] } });
    const c = await UdpClient.open(); open.push(c);
    const r = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Messages: [{ Data: '6869', Formatter: 'hex', Remote: { Address: '127.0.0.1', Port: c.port } }] } });
    expect(r.json().messages).toEqual([{ status: 'sent' }]);
    expect((await c.waitFor(1))[0]!.data.toString()).toBe('hi');
  });

  it('bad bodies get a clear 400 and bad tokens a 401', async () => {
    const { admin } = await setup();
    const bad = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Hello: 1 } });
    expect([bad.statusCode, bad.json()]).toEqual([400, { code: 'UGW_ERR_ADMIN_BAD_REQUEST', message: 'body has neither Messages, Data nor Replies' }]);
    const partly = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Messages: [{ Data: 'x', Remote: { Address: 'not-an-ip', Port: 1 } }] } });
    expect(partly.json().rejected).toEqual([{ index: 0, reason: 'Remote.Address is not an IP address' }]);
    const wrong = await admin.inject({ method: 'POST', url: '/v1/send', headers: { authorization: 'Bearer nope' }, payload: { Data: 'x' } });
    expect(wrong.statusCode).toBe(401);
  });
});

describe('IPv6 listener', () => {
  it('receives on ::1 and replies by tag to the IPv6 client', async () => {
    const { gw } = await setup('::1');
    const c = await UdpClient.open('::1'); open.push(c);
    await c.send('six', gw.address().port, '::1');
    const [r] = await c.waitFor(1);
    expect([r!.data.toString(), r!.address, r!.port]).toEqual(['echo:six', '::1', gw.address().port]);
  });
});

describe('dual-stack listener', () => {
  it('IPv4 clients seen as ::ffff:a.b.c.d can be addressed out of band by their IPv4 address', async () => {
    const { gw, admin } = await setup('::');
    const c = await UdpClient.open(); open.push(c);
    await c.send('hi', gw.address().port);
    const [echo] = await c.waitFor(1);
    expect(echo!.data.toString()).toBe('echo:hi');
    const r = await admin.inject({ method: 'POST', url: '/v1/send', headers: auth, payload: { Data: 'cHVzaA==', Remote: { IP: '127.0.0.1', Port: c.port } } });
    expect(r.json().messages).toEqual([{ status: 'sent' }]);
    const [, pushed] = await c.waitFor(2);
    expect([pushed!.data.toString(), pushed!.port]).toEqual(['push', gw.address().port]);
  });
});

