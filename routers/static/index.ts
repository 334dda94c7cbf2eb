/**
 * `static` router: a fixed list of backends (its own `backends`, else the destination's), balanced
 * by client hash, consistent hash, weighted round robin or least sessions. Answers at once, with
 * an answer made once per backend: a new session allocates nothing here.
 */
import { createBalancer, type ProxyDecision, type Router, type RouterContext, type RouteTarget } from '../../gateway/plugin-kit.js';
import type { Static } from '@sinclair/typebox';
import type { StaticRouterOptions } from './options.js';

export async function createStaticRouter(options: Static<typeof StaticRouterOptions>, ctx: RouterContext): Promise<Router> {
  const targets = options.backends ? await ctx.resolve(options.backends) : ctx.backends;
  if (targets.length === 0) throw new Error('the static router needs backends: list them under the destination\'s backends or router.backends');
  for (const label of Object.keys(options.weights ?? {})) {
    if (!targets.some((t) => t.label === label)) throw new Error(`router.weights names "${label}", which is not a backend: use one of ${targets.map((t) => t.label).join(', ')}`);
  }
  const balance = options.balance ?? 'hash';
  const balancer = createBalancer(targets, balance, options.weights);
  const answers = new Map<RouteTarget, ProxyDecision>(targets.map((t) => [t, { remote: t }]));
  return {
    kind: 'static',
    route: (req) => {
      const t = balancer.pick(req.remote.address, req.failed);
      return t ? answers.get(t)! : { drop: 'no-backend-left' };
    },
    sessionStarted: (s) => balancer.started(s.backend),
    sessionEnded: (s) => balancer.ended(s.backend),
    status: () => ({ kind: 'static', balance, sessions: balancer.sessions() }),
  };
}
