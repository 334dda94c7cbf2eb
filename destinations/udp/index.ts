/**
 * `udp` destination: a UDP proxy with sessions. Each client gets its own upstream socket to one
 * backend, chosen by the destination's router when the session starts (routers/<name>/: static by
 * default — client hash or round robin over `backends`, as before routers existed) and kept; the
 * backend's replies go back to the client from the listener's socket. Fire and forget: a datagram
 * handed to the kernel (or held while the router decides) is 'delivered'; a socket send error is
 * 'retryable'. Upstream sockets are the native addon's (one sendmmsg per session per batch) where
 * it loads, else node:dgram (upstream.ts).
 */
import {
  allOutcomes, retryable, routerKinds, resolveRouterConfig, GatewayError, type BatchResult, type Destination, type DestinationContext,
  type DestinationSessions, type Endpoint, type Packet, type Router, type RouteTarget, type SessionControl,
} from '../../gateway/plugin-kit.js';
import { resolveBackends, targetOf } from './backends.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { transportPreferenceFromEnv } from '../../net/select.js';
import { SessionTable } from './sessions.js';
import type { Session } from './session.js';
import { createDgramUpstreams } from './dgram-upstream.js';
import { createNativeUpstreams } from './native-upstream.js';
import { proxyHeaderOf } from './proxy-header.js';
import type { UdpConfig } from './options.js';
import type { UpstreamKindName, Upstreams } from './upstream.js';

/** The options as configured; every key but `backends` may be left out (tests build them by hand). */
export type UdpOptions = Partial<Omit<UdpConfig, 'hold' | 'session' | 'router'>> & {
  readonly router?: { readonly type: string } & Record<string, unknown>;
  readonly hold?: Partial<UdpConfig['hold']>;
  readonly session?: Partial<UdpConfig['session']>;
};

export interface UdpDestination extends Destination {
  /** The backend ("host:port" as configured) a client's session is pinned to, if it has one. */
  backendOf(listener: string, remote: Endpoint): string | undefined;
  /** Lists and ends sessions (the admin API; a Redis disconnect goes through the router's context). */
  readonly sessions: DestinationSessions;
}

export type UpstreamPreference = 'auto' | UpstreamKindName;

/** native where the addon loads (unless UDPGW_TRANSPORT=dgram or `dgram` is asked for), else dgram. */
export function createUpstreams(preference: UpstreamPreference = 'auto'): Upstreams<unknown> {
  const wanted = preference === 'auto' ? (transportPreferenceFromEnv() ?? 'auto') : preference;
  if (wanted === 'dgram') return createDgramUpstreams();
  const load = loadNativeAddon();
  if (load.addon) return createNativeUpstreams(load.addon);
  if (wanted === 'native') throw new Error(`native udp sessions unavailable: ${load.reason}`);
  return createDgramUpstreams();
}

/** `upstream` picks the session sockets (tests run both); by default native where it loads. */
export async function createUdpDestination(
  name: string, options: UdpOptions, ctx: DestinationContext, upstream: UpstreamPreference = 'auto',
): Promise<UdpDestination> {
  const fail = (err: Error): never => { throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${name}": ${err.message}`, { cause: err }); };
  const backends = await resolveBackends(options.backends ?? []).catch(fail);
  const logger = ctx.logger.child({ kind: 'udp' });
  const countDrop = ctx.countDrop ?? (() => {});
  const countEvent = ctx.countEvent ?? (() => {});
  let upstreams: Upstreams<unknown> | undefined;
  try { upstreams = createUpstreams(upstream); } catch (err) { fail(err as Error); }
  // The router's session control is bound once the table exists (the router is made first).
  let table: SessionTable<unknown> | undefined;
  const control: SessionControl = {
    endClient: (address, port) => table?.endClient(address, port) ?? 0,
    endUpstreamPort: (port) => table?.endUpstreamPort(port) ?? 0,
  };
  const router = await createRouter(name, options, backends, ctx, control, logger, countDrop).catch(fail);
  const session = { maxRequests: 0, maxReplies: 0, sticky: true, ...options.session };
  table = new SessionTable({
    upstreams: upstreams!, router, idleTimeoutMs: options.idleTimeoutMs ?? 60_000, maxSessions: options.maxSessions ?? 10_000,
    replies: options.replies ?? true, clients: ctx.clients, logger, countDrop, countEvent,
    hold: { maxPackets: 16, maxBytes: 65_536, timeoutMs: 5_000, ...options.hold },
    connectTimeoutMs: options.connectTimeoutMs ?? 0, inactivityTimeoutMs: options.inactivityTimeoutMs ?? 0, failover: options.failover ?? 0,
    resolve: (text) => targetOf(text) ?? resolveOne(text), maxRequests: session.maxRequests, maxReplies: session.maxReplies, sticky: session.sticky,
    ...(options.proxyProtocol ? { proxyHeader: proxyHeaderOf(options.proxyProtocol.on ?? 'first') } : {}),
    ...(offloadWanted(options) && ctx.clients.offload && upstreams!.offloadTarget ? {
      offload: (s: Session<unknown>) => {
        const target = s.upstream === undefined ? undefined : upstreams!.offloadTarget!(s.upstream);
        return target === undefined ? undefined : ctx.clients.offload!(s.listener, s.remote, name, target);
      },
    } : {}),
  });
  const t = table;
  let closed = false;

  /** Synchronous on native sessions (sendmmsg completes in the call), a promise on dgram ones. */
  function sendBatch(batch: readonly Packet[]): BatchResult | Promise<BatchResult> {
    if (batch.length === 0) return { outcomes: [] };
    if (closed) return { outcomes: allOutcomes(batch.length, retryable('udp destination is closed')) };
    return t.relay(batch, Date.now());
  }

  return {
    kind: 'udp',
    name,
    sendBatch,
    close: () => { closed = true; return t.close(); },
    status: () => {
      t.syncFlows(); // offloaded sessions' counts into the stats first
      return {
        sessions: t.size, backends: backends.map((b) => b.label), upstream: upstreams!.kind, router: router.status?.() ?? { kind: router.kind },
        sendErrors: upstreams!.stats.sendErrors, offloaded: t.offloaded, ...t.stats,
      };
    },
    backendOf: (listener, remote) => t.backendOf(listener, remote)?.label,
    sessions: { list: () => t.list(), count: () => t.size, ...control },
  };
}

/** Flow offload unless the destination's `flowOffload` is false or UDPGW_FLOW_OFFLOAD=off (tests run both). */
export function offloadWanted(options: UdpOptions): boolean {
  return options.flowOffload !== false && process.env.UDPGW_FLOW_OFFLOAD !== 'off';
}

/** A host name in an answer is looked up (once per answer; IP literals never are). */
async function resolveOne(text: string): Promise<RouteTarget> {
  return (await resolveBackends([text]))[0]!;
}

async function createRouter(
  name: string, options: UdpOptions, backends: RouteTarget[], ctx: DestinationContext, sessions: SessionControl,
  logger: DestinationContext['logger'], countDrop: (reason: string, n?: number) => void,
): Promise<Router> {
  const raw: Record<string, unknown> = { ...(options.router ?? { type: 'static' }) };
  if (raw.type === 'static' && raw.balance === undefined) raw.balance = options.balance ?? 'hash';
  const r = resolveRouterConfig(raw, '/router');
  if ('problems' in r) throw new Error(`router: ${r.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
  const { type, ...routerOptions } = r.value;
  const factory = await routerKinds.get(type)!.load();
  return factory(routerOptions, {
    logger: logger.child({ router: type }), baseDir: ctx.baseDir, destination: name, backends,
    resolve: resolveBackends, sessions, countDrop,
  });
}

export { UdpOptionsSchema } from './options.js';
