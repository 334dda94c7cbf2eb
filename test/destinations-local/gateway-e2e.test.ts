/** The local destinations end to end through createGateway: real UDP clients, a real backend, a real file. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import '../../app/builtin-kinds.js';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { UdpClient, eventually } from '../support/udp-client.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0).reverse()) await c(); });

describe('local destinations through the gateway', () => {
  it('echo handler, udp proxy and file archive each get the packet; replies leave from the listener port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ugw-e2e-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const backend = createSocket('udp4');
    backend.on('message', (m, r) => backend.send(`backend:${m.toString()}`, r.port, r.address));
    backend.bind(0, '127.0.0.1');
    await once(backend, 'listening');
    closers.push(() => { backend.close(); });

    const archive = join(dir, 'archive/packets.ndjson');
    const cfg = resolveConfig({
      secret: 'e2e-secret-0123456789abcdef',
      admin: { enabled: false },
      listeners: [{
        name: 'edge', host: '127.0.0.1', port: 0,
        destinations: [
          { name: 'echo', type: 'handler', module: 'examples/echo-handler.mjs', workers: 1 },
          { name: 'proxy', type: 'udp', backends: [`127.0.0.1:${backend.address().port}`] },
          { name: 'archive', type: 'file', path: archive, batch: { lingerMs: 0 } },
        ],
      }],
    }, root);
    const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }) });
    closers.push(() => gw.close());
    const client = await UdpClient.open();
    closers.push(() => client.close());

    await client.send('hello', gw.address().port);
    const got = await client.waitFor(2);
    expect(got.map((r) => r.data.toString()).sort()).toEqual(['backend:hello', 'hello']);
    expect(got.every((r) => r.port === gw.address().port)).toBe(true);
    await eventually(() => existsSync(archive) && readFileSync(archive, 'utf8').includes('\n'));
    const line = JSON.parse(readFileSync(archive, 'utf8').trim()) as { Data: string; Remote: { Port: number } };
    expect(Buffer.from(line.Data, 'base64').toString()).toBe('hello');
    expect(line.Remote.Port).toBe(client.port);
  });
});
