/**
 * Admin API (fastify), bound to 127.0.0.1 by default:
 *   GET  /healthz            process is up
 *   GET  /readyz             200 only while serving (503 while starting or draining)
 *   GET  /metrics            Prometheus text
 *   GET  /v1/status          listeners, destinations, packet sources (read-only JSON)
 *   POST /v1/send            out-of-band Messages and async Replies by tag (bearer token)
 *   GET  /v1/sessions        udp proxy sessions: listener, client, backend, age, packets each way
 *   POST /v1/sessions/end    ends sessions, as a Redis disconnect does: {"client":"ip:port"} or {"upstreamPort":n} (bearer token);
 *                            in cluster mode a client's sessions end on whichever node holds them
 *   GET  /  /v1/stats        the live status page and its numbers (read-only; app/status-page/)
 *   POST /v1/reload          read the config again and apply the difference (bearer token): app/reload.ts
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Gateway } from './gateway.js';
import { countDelivery, deliverDocumentRouted } from '../gateway/out-of-band/deliver.js';
import { sourceMetrics } from '../gateway/out-of-band/source-metrics.js';
import type { EgressResult } from '../gateway/egress.js';
import { DEFAULT_HTTP_LIMITS, limitedHttpServer, type HttpLimits } from '../gateway/out-of-band/http-limits.js';
import { parseSessionSelector, type SessionSelector } from '../gateway/routing/session-control.js';
import { registerStatusPage } from './status-page/routes.js';
import { reloadStatus, type ReloadReport } from './reload.js';

/** The admin API's send is a packet source like SNS and SQS: same delivery path, same metric labels. */
export const ADMIN_SOURCE = 'admin';

export interface AdminOptions {
  readonly token: string;
  /** Largest accepted body (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Request time limit and connection cap (defaults: DEFAULT_HTTP_LIMITS). */
  readonly limits?: Partial<HttpLimits>;
  /** POST /v1/reload (absent: 404). */
  readonly reload?: () => Promise<ReloadReport>;
}

function tokenMatches(req: FastifyRequest, token: string): boolean {
  const h = req.headers.authorization;
  if (!h || !h.startsWith('Bearer ')) return false;
  const a = createHash('sha256').update(h.slice(7)).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export function buildAdminApi(gw: Gateway, opts: AdminOptions): FastifyInstance {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimit ?? 1_048_576, serverFactory: limitedHttpServer(limits) });
  const metrics = sourceMetrics(gw.metrics);

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
  registerStatusPage(app, gw);

  const unauthorized = { code: 'UGW_ERR_ADMIN_UNAUTHORIZED', message: 'send "Authorization: Bearer <admin token>" (admin.token or UDPGW_ADMIN_TOKEN)' };
  /** Runners whose destination has sessions, optionally one destination ("name" or "listener/name"). */
  const withSessions = (destination?: string) => gw.runners.filter((r) => r.destination.sessions
    && (destination === undefined || r.destination.name === destination || r.id === destination));

  app.get('/v1/sessions', async (req) => {
    const { destination } = req.query as { destination?: string };
    return { sessions: withSessions(destination).flatMap((r) => r.destination.sessions!.list().map((s) => ({ destination: r.id, ...s }))) };
  });

  app.post('/v1/sessions/end', async (req, reply) => {
    if (!tokenMatches(req, opts.token)) return reply.code(401).send(unauthorized);
    const body = (req.body ?? {}) as { client?: unknown; upstreamPort?: unknown; destination?: unknown };
    const sel: SessionSelector | undefined = typeof body.client === 'string' ? parseSessionSelector(body.client)
      : typeof body.upstreamPort === 'number' && Number.isInteger(body.upstreamPort) ? { upstreamPort: body.upstreamPort } : undefined;
    if (!sel || (body.client !== undefined && 'upstreamPort' in sel)) {
      return reply.code(400).send({ code: 'UGW_ERR_ADMIN_BAD_REQUEST', message: 'send {"client":"ip:port"} (or "[ipv6]:port") or {"upstreamPort":<port>}, and optionally "destination"' });
    }
    const destination = typeof body.destination === 'string' ? body.destination : undefined;
    const ended = gw.endSessions(sel, destination);
    // An upstream port is this node's own socket; a client may have its session on another node.
    if (!gw.cluster || !('client' in sel)) return { ended };
    return { ended, otherNodes: await gw.cluster.egress.endSessionsElsewhere(body.client as string, destination) };
  });

  // The token is checked on the headers (onRequest), before any of the body is read; the refusal
  // closes the connection, so a client without the token cannot hold it open by trickling a body.
  const tokenFirst = async (req: FastifyRequest, reply: FastifyReply) => {
    if (tokenMatches(req, opts.token)) return;
    return reply.code(401).header('connection', 'close').send(unauthorized);
  };

  // The body, if any, is not read: the config comes from where start read it.
  if (opts.reload) {
    const reload = opts.reload;
    app.post('/v1/reload', { onRequest: tokenFirst }, async (_req, reply) => {
      const report = await reload();
      return reply.code(reloadStatus(report)).send(report);
    });
  }

  app.post('/v1/send', { onRequest: tokenFirst }, async (req, reply) => {
    const listener = (req.query as { listener?: string }).listener ?? gw.config.listeners[0]!.name;
    const report = await deliverDocumentRouted(req.body, { egress: gw.outOfBand, listener, defaultFormatter: gw.egress.formatterOf(listener) ?? 'base64' });
    if (report instanceof Error) {
      metrics.messages.inc({ source: ADMIN_SOURCE, outcome: 'malformed' });
      return reply.code(400).send({ code: 'UGW_ERR_ADMIN_BAD_REQUEST', message: report.message });
    }
    countDelivery(metrics, ADMIN_SOURCE, report);
    const anyRefused = report.rejected.length > 0 || report.refused.length > 0;
    metrics.messages.inc({ source: ADMIN_SOURCE, outcome: anyRefused ? 'refused' : 'delivered' });
    const result = (r: EgressResult) => (r.ok ? { status: 'sent', ...(r.forwardedTo ? { via: r.forwardedTo } : {}) } : { status: 'refused', reason: r.reason });
    const body = { messages: report.messages.map(result), replies: report.replies.map(result), rejected: report.rejected };
    return reply.code(anyRefused ? 207 : 200).send(body);
  });
  return app;
}
