/**
 * Takes docs/status-page.png: a real gateway with several listeners and destinations (a handler, a
 * file archive, a slow HTTP webhook that builds a queue, a udp proxy to two backends, a rate-limited
 * syslog listener that drops), real UDP traffic from a few clients for a minute or so (a rate that
 * swells and ebbs, so the sparklines have a shape), then a screenshot of the page in chromium.
 *   npm run screenshot:status-page            (UDPGW_SCREENSHOT_SECONDS=90 by default)
 * Everything stays on 127.0.0.1; every loop is bounded.
 */
import { createServer } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../app/config/load.js';
import { createGateway } from '../../app/gateway.js';
import { buildAdminApi } from '../../app/admin.js';
import { dgramTransport } from '../../net/dgram.js';
import { launchBrowser } from './browser.js';
import { ROOT } from './cli.js';
import { UdpClient, sleep } from './udp-client.js';

const SECONDS = Number(process.env.UDPGW_SCREENSHOT_SECONDS ?? 90);
const OUT = join(ROOT, 'docs/status-page.png');

async function echo(): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-shot-'));
  const backends = [await echo(), await echo()];
  const webhook = createServer((req, res) => { req.resume(); req.on('end', () => setTimeout(() => res.end('{}'), 45)); });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', () => r()));
  const cfg = resolveConfig({
    secret: 'screenshot-secret-0123456789',
    listeners: [
      { name: 'telemetry', port: 0, destinations: [
        { name: 'ack', type: 'handler', module: join(ROOT, 'examples/echo-handler.mjs'), workers: 1 },
        { name: 'archive', type: 'file', path: join(dir, 'telemetry.ndjson') },
        { name: 'webhook', type: 'http', url: `http://127.0.0.1:${(webhook.address() as { port: number }).port}/ingest`, inFlight: 1, batch: { maxPackets: 10 } },
      ] },
      { name: 'game', port: 0, destinations: [{ name: 'match', type: 'udp', backends: backends.map((b) => `127.0.0.1:${b.address().port}`) }] },
      { name: 'syslog', port: 0, rateLimit: { packetsPerSecond: 25 }, destinations: [{ name: 'logs', type: 'file', path: join(dir, 'syslog.ndjson') }] },
    ],
  }, dir);
  const gw = await createGateway(cfg, { logger: pino({ level: 'silent' }), transport: dgramTransport });
  const admin = buildAdminApi(gw, { token: 'screenshot-token' });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(admin.server.address() as { port: number }).port}/`;
  const b = await launchBrowser({ width: 1280, height: 900 });
  const clients = await Promise.all(Array.from({ length: 6 }, () => UdpClient.open()));
  try {
    const page = await b.context.newPage();
    await page.goto(url);
    const ticks = SECONDS * 10;
    for (let t = 0; t < ticks; t++) {                       // 100 ms ticks, a minute and a half by default
      const swell = 1 + Math.sin((t / ticks) * Math.PI * 3);
      for (const [i, c] of clients.entries()) {
        for (let k = 0; k < Math.round(2 * swell) + (i % 2); k++) await c.send(JSON.stringify({ sensor: i, t, v: Math.random() }), gw.address('telemetry').port);
        if (i < 4) await c.send(`move ${t}`, gw.address('game').port);
        if (i === 5) for (let k = 0; k < 4; k++) await c.send(`<14>app: line ${t}.${k}`, gw.address('syslog').port);
      }
      if (t % 50 === 0) await admin.inject({ method: 'POST', url: '/v1/send', headers: { authorization: 'Bearer screenshot-token' }, payload: { Replies: [{ Tag: 'stale-or-forged', Data: 'aGk=' }] } });
      await sleep(100);
    }
    await page.waitForFunction((n) => Number(document.body.dataset.samples) >= n, Math.min(SECONDS / 2, 30), { timeout: 10_000 });
    await page.screenshot({ path: OUT, fullPage: true });
    console.log(`wrote ${OUT}`);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await b.close();
    await gw.shutdown(1000);
    await admin.close();
    await new Promise<void>((r) => webhook.close(() => r()));
    for (const s of backends) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
