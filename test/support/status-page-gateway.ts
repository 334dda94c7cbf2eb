/**
 * A real gateway with its admin API on 127.0.0.1:0 for the status page tests and screenshot: a
 * handler destination (the example echo handler, in a worker) and a file archive on one listener,
 * a udp proxy to a real UDP echo backend on another, and a listener that denies 127.0.0.0/8 (so
 * every packet sent to it is a counted drop).
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway, type Gateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { dgramTransport } from '../../net/dgram.js';
import { ROOT } from './cli.js';

export const SECRET = 'status-page-secret-0123456789';
export const TOKEN = 'status-page-admin-token';

export interface StatusGateway {
  readonly gw: Gateway;
  readonly admin: FastifyInstance;
  readonly adminUrl: string;
  port(listener: string): number;
  close(): Promise<void>;
}

/** A UDP echo server on 127.0.0.1 (the udp proxy's backend). */
async function echoBackend(): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

export async function startStatusGateway(extraListeners: Record<string, unknown>[] = []): Promise<StatusGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-status-'));
  const backend = await echoBackend();
  const cfg = resolveConfig({
    secret: SECRET,
    admin: { token: TOKEN },
    listeners: [
      { name: 'telemetry', host: '127.0.0.1', port: 0, destinations: [
        { name: 'echo', type: 'handler', module: join(ROOT, 'examples/echo-handler.mjs'), workers: 1 },
        { name: 'archive', type: 'file', path: join(dir, 'archive.ndjson') },
      ] },
      { name: 'game', host: '127.0.0.1', port: 0, destinations: [{ name: 'proxy', type: 'udp', backends: [`127.0.0.1:${backend.address().port}`] }] },
      { name: 'guarded', host: '127.0.0.1', port: 0, deny: ['127.0.0.0/8'], destinations: [{ name: 'archive', type: 'file', path: join(dir, 'guarded.ndjson') }] },
      ...extraListeners,
    ],
  }, dir);
  const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }), transport: dgramTransport });
  const admin = buildAdminApi(gw, { token: TOKEN });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  const a = admin.server.address() as { port: number };
  return {
    gw, admin, adminUrl: `http://127.0.0.1:${a.port}`,
    port: (listener) => gw.address(listener).port,
    async close() {
      await gw.shutdown(1000);
      await admin.close();
      await new Promise<void>((r) => backend.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The value of one sample in Prometheus text (`name{labels}`), 0 when absent. */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
