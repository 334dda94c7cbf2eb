/** Options of the `udp` destination (the keys besides the common ones: name, type, batch, queue, …). */
import { Type, type Static } from '@sinclair/typebox';
import { resolveRouterConfig, type ConfigProblem } from '../../gateway/plugin-kit.js';

const Backend = Type.String({ minLength: 3, description: 'host:port or [ipv6]:port' });

export const UdpOptionsSchema = Type.Object({
  backends: Type.Optional(Type.Array(Backend, { minItems: 1, description: 'the default pool; the static router uses it unless it has its own' })),
  balance: Type.Union([Type.Literal('hash'), Type.Literal('round-robin')], { default: 'hash', description: 'the static router\'s default balance' }),
  idleTimeoutMs: Type.Integer({ minimum: 1, default: 60_000 }),
  maxSessions: Type.Integer({ minimum: 1, default: 10_000 }),
  replies: Type.Boolean({ default: true, description: 'relay backend datagrams back to the client' }),
  router: Type.Object({ type: Type.String({ minLength: 1 }) }, {
    additionalProperties: true, default: { type: 'static' },
    description: 'who picks a new session\'s backend: static (default), rules, module, redis',
  }),
  hold: Type.Object({
    maxPackets: Type.Integer({ minimum: 1, default: 16 }),
    maxBytes: Type.Integer({ minimum: 1, default: 65_536 }),
    timeoutMs: Type.Integer({ minimum: 1, default: 5_000 }),
  }, { additionalProperties: false, default: {}, description: 'datagrams held per session while the router decides' }),
  connectTimeoutMs: Type.Integer({ minimum: 0, default: 0, description: 'no datagram back this long after the first one sent: the backend failed (0: off)' }),
  inactivityTimeoutMs: Type.Integer({ minimum: 0, default: 0, description: 'no datagram from the backend this long: it went silent (0: off)' }),
  failover: Type.Integer({ minimum: 0, default: 0, description: 'other backends tried after a connect failure, the held datagrams replayed' }),
  flowOffload: Type.Boolean({
    default: true,
    description: 'an open session\'s datagrams forwarded both ways by the native transport itself, without the pipeline, where the listener allows it (docs/performance.md, "Flow offload"); false: every datagram through the pipeline',
  }),
  proxyProtocol: Type.Optional(Type.Object({
    version: Type.Literal(2, { default: 2 }),
    on: Type.Union([Type.Literal('first'), Type.Literal('every')], { default: 'first', description: 'first datagram of a session, or every datagram' }),
  }, { additionalProperties: false })),
  session: Type.Object({
    maxRequests: Type.Integer({ minimum: 0, default: 0, description: 'end a session after this many datagrams from the client (0: no limit)' }),
    maxReplies: Type.Integer({ minimum: 0, default: 0, description: 'end a session after this many datagrams back (DNS: 1; 0: no limit)' }),
    sticky: Type.Boolean({ default: true, description: 'false: every datagram is routed by itself (syslog, StatsD); static and rules routers only' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

/** Split "host:port" or "[v6]:port". Returns an Error (not thrown) with what is wrong and the fix. */
export function parseHostPort(text: string): { host: string; port: number } | Error {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]+):(\d+)$/.exec(text);
  if (!m) {
    const port = text.slice(text.lastIndexOf(':') + 1);
    const why = !text.includes(':') ? 'has no port' : !/^\d+$/.test(port) ? `has port "${port}", not a number` : 'is not host:port';
    return new Error(`backend "${text}" ${why}: write host:port (10.1.0.7:8125, statsd.local:8125) or [ipv6]:port`);
  }
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return new Error(`backend "${text}" has port ${m[2]}, outside 1-65535: fix the port`);
  return { host: m[1]!, port };
}

/** Every backend parses (start-up resolves the names; this needs no network). */
export function checkUdpOptions(options: { readonly backends?: readonly string[] }): ConfigProblem[] {
  return (options.backends ?? []).flatMap((b, i) => {
    const hp = parseHostPort(b);
    return hp instanceof Error ? [{ path: `/backends/${i}`, message: hp.message }] : [];
  });
}

export type UdpConfig = Static<typeof UdpOptionsSchema>;

/** The router block checked by its own kind's schema; the static router inherits `balance`. */
export function refineUdpOptions(options: UdpConfig, at: string): { value: UdpConfig } | { problems: ConfigProblem[] } {
  const raw = { ...options.router } as Record<string, unknown>;
  if (raw.type === 'static' && raw.balance === undefined) raw.balance = options.balance;
  const r = resolveRouterConfig(raw, `${at}/router`);
  if ('problems' in r) return r;
  if (r.value.type === 'static' && !options.backends && !r.value.backends) {
    return { problems: [{ path: `${at}/backends`, message: 'is required by the static router: list "host:port" backends here or under router.backends' }] };
  }
  if (options.session.sticky === false && r.value.type !== 'static' && r.value.type !== 'rules') {
    return { problems: [{ path: `${at}/session/sticky`, message: `false needs a router that answers at once (static or rules), not "${r.value.type}": remove it or change router.type` }] };
  }
  return { value: { ...options, router: r.value } };
}
