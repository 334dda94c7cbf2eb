/**
 * `rules` router: declarative routing without code. The first matching rule's pool takes the
 * session (balanced as the pool says); no match: the `default` pool, else a counted drop.
 *   pools:   { login: { backends: [...] }, game: { backends: [...], balance: least-sessions } }
 *   rules:   [ { expression: "${data[0:1]:hex}", equals: "01", pool: login },
 *              { prefixText: "GET ", pool: login }, { network: ["10.0.0.0/8"], pool: game } ]
 * Answers at once (no I/O): the request's first datagram is matched, nothing is held.
 */
import type { Static } from '@sinclair/typebox';
import { createBalancer, type Balancer, type Packet, type ProxyDecision, type Router, type RouterContext, type RouteRequest, type RouteTarget } from '../../gateway/plugin-kit.js';
import type { RulesRouterOptions } from './options.js';
import { compileRule, type Matcher } from './match.js';

interface Pool { readonly name: string; readonly balancer: Balancer; readonly answers: Map<RouteTarget, ProxyDecision> }

export async function createRulesRouter(options: Static<typeof RulesRouterOptions>, ctx: RouterContext): Promise<Router> {
  const pools = new Map<string, Pool>();
  for (const [name, p] of Object.entries(options.pools)) {
    const targets = await ctx.resolve(p.backends);
    pools.set(name, { name, balancer: createBalancer(targets, p.balance ?? 'hash', p.weights), answers: new Map(targets.map((t) => [t, { remote: t }])) });
  }
  const poolNamed = (name: string, at: string): Pool => {
    const pool = pools.get(name);
    if (!pool) throw new Error(`${at}: no pool named "${name}": use one of ${[...pools.keys()].join(', ')}`);
    return pool;
  };
  const rules: { matches: Matcher; pool: Pool }[] = options.rules.map((r, i) => ({ matches: compileRule(r, `router/rules/${i}`), pool: poolNamed(r.pool, `router/rules/${i}/pool`) }));
  const fallback = options.default !== undefined ? poolNamed(options.default, 'router/default') : undefined;
  const hits = new Map<string, number>();
  const poolOf = new Map<RouteTarget, Pool>();
  for (const pool of pools.values()) for (const t of pool.answers.keys()) poolOf.set(t, pool);

  function route(req: RouteRequest) {
    const first = asPacket(req);
    const pool = rules.find((r) => r.matches(req, first))?.pool ?? fallback;
    if (!pool) { count('(none)'); return { drop: 'no-rule-matched' }; }
    count(pool.name);
    const t = pool.balancer.pick(req.remote.address, req.failed);
    return t ? pool.answers.get(t)! : { drop: 'no-backend-left' };
  }
  function count(name: string): void { hits.set(name, (hits.get(name) ?? 0) + 1); }

  return {
    kind: 'rules',
    route,
    sessionStarted: (s) => poolOf.get(s.backend)?.balancer.started(s.backend),
    sessionEnded: (s) => poolOf.get(s.backend)?.balancer.ended(s.backend),
    status: () => ({ kind: 'rules', routed: Object.fromEntries(hits), pools: Object.fromEntries([...pools].map(([n, p]) => [n, p.balancer.sessions()])) }),
  };
}

/** The first datagram as the expression language sees a packet. */
function asPacket(req: RouteRequest): Packet {
  return { tag: '', listener: req.listener, remote: req.remote, local: req.local, receivedAt: Date.now(), data: req.data[0]!, formatter: 'base64' };
}
