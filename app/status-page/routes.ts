/**
 * The status page, on the admin API (same bind, read-only, no token):
 *   GET /                  the page (static HTML; its script polls /v1/stats)
 *   GET /status/<asset>    its script and style sheet (a fixed list, nothing else is served)
 *   GET /v1/stats          the numbers it shows, from the same registry as /metrics (stats.ts)
 * The assets are plain files shipped in the package (app/status-page/assets, copied to dist by the
 * build): no front-end build. The page runs no inline script, so its Content-Security-Policy allows
 * only this origin's script, style and fetch; nothing on it can send a packet.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Gateway } from '../gateway.js';
import { readStats } from './stats.js';

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'page.js': 'text/javascript; charset=utf-8',
  'view.js': 'text/javascript; charset=utf-8',
  'page.css': 'text/css; charset=utf-8',
};

export const STATUS_PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const dir = new URL('./assets/', import.meta.url);

function readAsset(name: string): Buffer | Error {
  try {
    return readFileSync(new URL(name, dir));
  } catch (err) {
    return new Error(`status page asset ${name} is missing from this install (${(err as Error).message})`);
  }
}

function hardened(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache');
}

export function registerStatusPage(app: FastifyInstance, gw: Gateway): void {
  const files = new Map(Object.keys(ASSETS).map((name) => [name, readAsset(name)]));
  const missing = [...files.values()].filter((f): f is Error => f instanceof Error);
  if (missing.length) gw.logger.warn({ missing: missing.map((e) => e.message) }, 'status page assets missing: GET / answers 500');

  const serve = (name: string, reply: FastifyReply) => {
    const body = files.get(name)!;
    if (body instanceof Error) return reply.code(500).header('content-type', 'text/plain; charset=utf-8').send(body.message);
    return hardened(reply).header('content-type', ASSETS[name]!).header('content-security-policy', STATUS_PAGE_CSP).send(body);
  };

  app.get('/', async (_req, reply) => serve('index.html', reply));
  app.get('/status/:asset', async (req, reply) => {
    const { asset } = req.params as { asset: string };
    if (asset === 'index.html' || !Object.hasOwn(ASSETS, asset)) return reply.callNotFound();
    return serve(asset, reply);
  });
  app.get('/v1/stats', async (_req, reply) => {
    hardened(reply).header('cache-control', 'no-store');
    return readStats(gw);
  });
}
