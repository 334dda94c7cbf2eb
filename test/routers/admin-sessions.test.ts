/** Session control in the admin API, on a whole gateway: real client, listener, udp destination and backend. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { UdpClient } from '../support/udp-client.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { dgramTransport } from '../../net/dgram.js';
import { backend, closeAll, until } from './support.js';

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => { await Promise.all(open.splice(0).map((o) => o.close())); await closeAll(); });

const auth = { authorization: 'Bearer sekrit-token' };

describe('admin API: sessions', () => {
  it('GET /v1/sessions lists them; POST /v1/sessions/end (token) ends one as a Redis disconnect does', async () => {
    const b = await backend('b');
    const cfg = resolveConfig({ secret: 'admin-test-secret-0123456789', listeners: [{ name: 'edge', host: '127.0.0.1', port: 0,
      destinations: [{ name: 'game', type: 'udp', backends: [b.label] }] }] }, '/tmp');
    const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }), transport: dgramTransport });
    const admin = buildAdminApi(gw, { token: 'sekrit-token' });
    open.push(admin, gw);
    const c = await UdpClient.open(); open.push(c);
    await c.send('one', gw.address().port);
    await c.waitFor(1);
    const listed = (await admin.inject('/v1/sessions')).json();
    expect(listed.sessions).toEqual([{ destination: 'edge/game', listener: 'edge', client: `127.0.0.1:${c.port}`, backend: b.label, state: 'open', ageMs: expect.any(Number), packetsIn: 1, packetsOut: 1 }]);

    const noToken = await admin.inject({ method: 'POST', url: '/v1/sessions/end', payload: { client: `127.0.0.1:${c.port}` } });
    expect(noToken.statusCode).toBe(401);
    const bad = await admin.inject({ method: 'POST', url: '/v1/sessions/end', headers: auth, payload: { client: 'nonsense' } });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'UGW_ERR_ADMIN_BAD_REQUEST']);
    const ended = await admin.inject({ method: 'POST', url: '/v1/sessions/end', headers: auth, payload: { client: `127.0.0.1:${c.port}` } });
    expect(ended.json()).toEqual({ ended: 1 });
    expect((await admin.inject('/v1/sessions')).json().sessions).toEqual([]);

    await c.send('two', gw.address().port);
    await c.waitFor(2);
    await until(() => b.seen.length === 2);
    expect(b.seen[1]!.port).not.toBe(b.seen[0]!.port); // a new session, a new upstream socket
    const byPort = await admin.inject({ method: 'POST', url: '/v1/sessions/end', headers: auth, payload: { upstreamPort: b.seen[1]!.port, destination: 'game' } });
    expect(byPort.json()).toEqual({ ended: 1 });
  });
});
