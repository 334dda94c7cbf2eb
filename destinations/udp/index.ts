/**
 * `udp` destination: a classic sticky UDP proxy. Each client gets its own upstream socket to one
 * backend (picked by client-address hash or round robin when the session starts); the backend's
 * replies go back to the client from the listener's socket. Fire and forget: a datagram handed to
 * the kernel is 'delivered'; a socket send error is 'retryable'. Upstream sockets are the native
 * addon's (one sendmmsg per session per batch) where it loads, else node:dgram (upstream.ts).
 */
import {
  allOutcomes, retryable, type BatchResult, type Destination, type DestinationContext,
} from '../../gateway/plugin-kit.js';
import type { Endpoint, Packet } from '../../gateway/plugin-kit.js';
import { GatewayError } from '../../gateway/plugin-kit.js';
import { resolveBackends } from './backends.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { transportPreferenceFromEnv } from '../../net/select.js';
import { SessionTable, type Balance } from './sessions.js';
import { createDgramUpstreams } from './dgram-upstream.js';
import { createNativeUpstreams } from './native-upstream.js';
import type { UpstreamKindName, Upstreams } from './upstream.js';

export interface UdpOptions {
  readonly backends: readonly string[];
  readonly balance?: Balance;
  readonly idleTimeoutMs?: number;
  readonly maxSessions?: number;
  readonly replies?: boolean;
}

export interface UdpDestination extends Destination {
  /** The backend ("host:port" as configured) a client's session is pinned to, if it has one. */
  backendOf(listener: string, remote: Endpoint): string | undefined;
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
  const backends = await resolveBackends(options.backends).catch((err: Error) => {
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${name}": ${err.message}`, { cause: err });
  });
  const logger = ctx.logger.child({ kind: 'udp' });
  let upstreams: Upstreams<unknown>;
  try {
    upstreams = createUpstreams(upstream);
  } catch (err) {
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${name}": ${(err as Error).message}`, { cause: err });
  }
  const table = new SessionTable({ upstreams,
    backends, balance: options.balance ?? 'hash', idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxSessions: options.maxSessions ?? 10_000, replies: options.replies ?? true, clients: ctx.clients, logger,
  });
  let closed = false;

  /** Synchronous on native sessions (sendmmsg completes in the call), a promise on dgram ones. */
  function sendBatch(batch: readonly Packet[]): BatchResult | Promise<BatchResult> {
    if (batch.length === 0) return { outcomes: [] };
    if (closed) return { outcomes: allOutcomes(batch.length, retryable('udp destination is closed')) };
    const now = Date.now();
    return upstreams.relay(batch, (p) => table.sessionFor(p, now));
  }

  return {
    kind: 'udp',
    name,
    sendBatch,
    close: () => { closed = true; return table.close(); },
    status: () => ({
      sessions: table.size, backends: backends.map((b) => b.label), upstream: upstreams.kind,
      sendErrors: upstreams.stats.sendErrors, ...table.stats,
    }),
    backendOf: (listener, remote) => table.backendOf(listener, remote)?.label,
  };
}

export { UdpOptionsSchema } from './options.js';
