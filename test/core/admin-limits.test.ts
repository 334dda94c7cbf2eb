/** The admin API on a real socket: slow clients cannot hold connections, the token is checked before the body. */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import '../support/memory-destination.js';
import { rawConnect, postHead, type RawConnection } from '../support/raw-http.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { dgramTransport } from '../../net/dgram.js';

const log = pino({ level: 'silent' });
let open: { close(): Promise<unknown> }[] = [];
let sockets: RawConnection[] = [];
afterEach(async () => {
  sockets.forEach((s) => s.socket.destroy()); sockets = [];
  for (const o of open.reverse()) await o.close();
  open = [];
});

async function admin(limits: { requestTimeoutMs?: number; maxConnections?: number }): Promise<{ app: FastifyInstance; port: number }> {
  const cfg = resolveConfig({ secret: 'admin-test-secret-0123456789', listeners: [{ name: 'edge', host: '127.0.0.1', port: 0, destinations: [{ type: 'memory', prefix: `adl-${Math.random()}` }] }] }, '/tmp');
  const gw = await createGateway(cfg, { logger: log, transport: dgramTransport });
  const app = buildAdminApi(gw, { token: 'sekrit-token', limits });
  await app.listen({ host: '127.0.0.1', port: 0 });
  open.push(gw, app);
  return { app, port: (app.server.address() as { port: number }).port };
}
const connect = async (port: number, head = '') => { const c = await rawConnect(port, head); sockets.push(c); return c; };

describe('admin API limits', () => {
  it('closes a connection whose body trickles in past requestTimeoutMs (408)', async () => {
    const { port } = await admin({ requestTimeoutMs: 500 });
    const c = await connect(port, postHead('/v1/send', 1000, { authorization: 'Bearer sekrit-token' }));
    c.trickle(100, 200);
    await c.closed(10_000);
    expect(c.response()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection that sends nothing, and one whose headers never end', async () => {
    const { port } = await admin({ requestTimeoutMs: 500 });
    const idle = await connect(port);
    const partial = await connect(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await Promise.all([idle.closed(10_000), partial.closed(10_000)]);
  });

  it('refuses a wrong token on the headers, before any body byte, and closes the connection', async () => {
    const { port } = await admin({ requestTimeoutMs: 60_000 });
    const c = await connect(port, postHead('/v1/send', 1000, { authorization: 'Bearer wrong-token' }));
    expect(await c.answered(5_000)).toMatch(/^HTTP\/1\.1 401/);
    await c.closed(5_000);
    const none = await connect(port, postHead('/v1/send', 1000));
    expect(await none.answered(5_000)).toMatch(/^HTTP\/1\.1 401/);
  });

  it('caps open connections: one more is closed unanswered; a slot freed serves again', async () => {
    const { port } = await admin({ maxConnections: 3, requestTimeoutMs: 60_000 });
    const held = [await connect(port, 'GET /healthz HTTP/1.1\r\n'), await connect(port, 'GET /healthz HTTP/1.1\r\n'), await connect(port, 'GET /healthz HTTP/1.1\r\n')];
    const extra = await connect(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await extra.closed(5_000);
    expect(extra.response()).toBe('');
    held[0]!.socket.destroy();
    await held[0]!.closed(1_000);
    // The server hears of the freed slot asynchronously: retry a bounded number of times.
    let body = '';
    for (let i = 0; i < 50 && !body.includes('"ok"'); i++) {
      const c = await connect(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await c.closed(5_000);
      body = c.response();
    }
    expect(body).toMatch(/^HTTP\/1\.1 200[\s\S]*"status":"ok"/);
  });
});
