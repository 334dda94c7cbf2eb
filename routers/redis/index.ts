/**
 * `redis` router, the semantics of the Redis-driven Bedrock proxy, exactly:
 * - a new client's backend is the value of `backendKey` ("host:port"), read once, when its session
 *   starts; existing sessions stay pinned whatever the key says later;
 * - a message on `disconnectChannel` ends a session at once, so the client's next datagram is
 *   routed afresh: "ip:port" names the client as the gateway sees it (an IPv4 client on a
 *   dual-stack listener matches both a.b.c.d and ::ffff:a.b.c.d), a bare "port" the upstream
 *   socket's local port (the form older versions of that proxy published);
 * - Redis unreachable (or slower than lookupTimeoutMs), or the key empty: the `unavailable` choice,
 *   a counted drop (redis-unavailable, redis-no-backend) or a fallback pool.
 * One subscription per process (connections.ts), reconnects with backoff.
 */
import type { Static } from '@sinclair/typebox';
import { createBalancer, endSessions, parseSessionSelector, type Balancer, type RouteDecision, type Router, type RouterContext, type RouteRequest } from '../../gateway/plugin-kit.js';
import type { RedisRouterOptions } from './options.js';
import type { Redis } from 'ioredis';
import { commandConnection, subscribe, subscriptionCount } from './connections.js';

export async function createRedisRouter(options: Static<typeof RedisRouterOptions>, ctx: RouterContext): Promise<Router> {
  const stats = { lookups: 0, unavailable: 0, noBackend: 0, fallback: 0, disconnects: 0, disconnectsUnmatched: 0 };
  const fallback: Balancer | undefined = options.unavailable === 'drop' ? undefined
    : createBalancer(await ctx.resolve(options.unavailable.backends), options.unavailable.balance ?? 'hash');
  let lastError = '';
  const onError = (err: Error): void => {
    if (err.message === lastError) return; // one line per new problem, not one per retry
    lastError = err.message;
    ctx.logger.warn({ err: err.message, url: redact(options.url) }, 'redis router: connection problem (reconnecting with backoff)');
  };
  const cmd = commandConnection(options, onError);
  cmd.redis.on('ready', () => { if (lastError) ctx.logger.info({ url: redact(options.url) }, 'redis router: connected'); lastError = ''; });
  const sub = subscribe(options, options.disconnectChannel, (message) => disconnect(message), onError);
  await firstConnection(cmd.redis, STARTUP_WAIT_MS);
  await Promise.race([sub.ready, new Promise((r) => setTimeout(r, STARTUP_WAIT_MS).unref())]);

  function disconnect(message: string): void {
    const sel = parseSessionSelector(message);
    const n = sel ? endSessions(ctx.sessions, sel) : 0;
    if (n > 0) stats.disconnects += n; else stats.disconnectsUnmatched++;
  }

  function unavailable(req: RouteRequest, reason: 'redis-unavailable' | 'redis-no-backend'): RouteDecision {
    if (!fallback) return { drop: reason };
    const t = fallback.pick(req.remote.address, req.failed);
    if (!t) return { drop: 'no-backend-left' };
    stats.fallback++;
    return { remote: t };
  }

  async function route(req: RouteRequest): Promise<RouteDecision> {
    stats.lookups++;
    let value: string | null;
    try {
      value = await cmd.redis.get(options.backendKey);
    } catch {
      stats.unavailable++;
      return unavailable(req, 'redis-unavailable');
    }
    if (!value) { stats.noBackend++; return unavailable(req, 'redis-no-backend'); }
    return { remote: value.trim() };
  }

  return {
    kind: 'redis',
    route,
    close: async () => { await Promise.all([sub.release(), cmd.release()]); },
    status: () => ({ kind: 'redis', connection: cmd.redis.status, subscriptions: subscriptionCount(), ...stats }),
  };
}

/** Redis down at start is not an error (lookups fail over to the `unavailable` choice until it is
 *  back), but a server that answers should answer the first lookup: wait for it, bounded. */
const STARTUP_WAIT_MS = 2_000;

async function firstConnection(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    redis.once('ready', resolve);
    redis.once('error', resolve);
  });
  clearTimeout(timer);
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
