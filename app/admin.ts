/**
 * Admin API (fastify), bound to 127.0.0.1 by default:
 *   GET  /healthz            process is up
 *   GET  /readyz             200 only while serving (503 while starting or draining)
 *   GET  /metrics            Prometheus text
 *   GET  /v1/status          listeners, destinations, packet sources (read-only JSON)
 *   POST /v1/send            out-of-band Messages and async Replies by tag (bearer token)
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Gateway } from './gateway.js';
import { parseEgressDocument } from '../gateway/wire/egress-message.js';

export interface AdminOptions {
  readonly token: string;
  /** Largest accepted body (default 1 MiB). */
  readonly bodyLimit?: number;
}

function tokenMatches(req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization;
  if (!h || !h.startsWith('Bearer ')) return false;
  const a = createHash('sha256').update(h.slice(7)).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export function buildAdminApi(gw: Gateway, opts: AdminOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimit ?? 1_048_576 });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!gw.ready) return reply.code(503).send({ status: gw.state });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', gw.metrics.registry.contentType);
    return gw.metrics.registry.metrics();
  });
  app.get('/v1/status', async () => gw.status());

  app.post('/v1/send', async (req, reply) => {
    if (!tokenMatches(req, opts.token)) {
      return reply.code(401).send({ code: 'UGW_ERR_ADMIN_UNAUTHORIZED', message: 'send "Authorization: Bearer <admin token>" (admin.token or UDPGW_ADMIN_TOKEN)' });
    }
    const listener = (req.query as { listener?: string }).listener ?? gw.config.listeners[0]!.name;
    const doc = parseEgressDocument(req.body, { defaultFormatter: gw.egress.formatterOf(listener) ?? 'base64', formatterOf: gw.egress.formatterOfTag });
    if (doc instanceof Error) return reply.code(400).send({ code: 'UGW_ERR_ADMIN_BAD_REQUEST', message: doc.message });
    const messages = doc.packets.map((p) => gw.egress.sendOutOfBand(p, listener));
    const replies = doc.replies.map((r) => gw.egress.reply(r.tag, r.data, 'async_reply'));
    const result = (r: { ok: boolean; reason?: string }) => (r.ok ? { status: 'sent' } : { status: 'refused', reason: r.reason });
    const body = { messages: messages.map(result), replies: replies.map(result), rejected: doc.rejected };
    const anyRefused = doc.rejected.length > 0 || [...messages, ...replies].some((r) => !r.ok);
    return reply.code(anyRefused ? 207 : 200).send(body);
  });
  return app;
}
