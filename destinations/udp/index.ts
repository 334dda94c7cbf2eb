/**
 * `udp` destination: a classic sticky UDP proxy. Each client gets its own upstream socket to one
 * backend (picked by client-address hash or round robin when the session starts); the backend's
 * replies go back to the client from the listener's socket. Fire and forget: a datagram handed to
 * the kernel is 'delivered'; a socket send error is 'retryable'.
 */
import { Type } from '@sinclair/typebox';
import {
  defineDestinationKind, allOutcomes, delivered, retryable,
  type BatchResult, type Destination, type DestinationContext, type DeliveryOutcome,
} from '../../gateway/destination.js';
import type { Endpoint, Packet } from '../../gateway/packet.js';
import { GatewayError } from '../../gateway/errors.js';
import { resolveBackends } from './backends.js';
import { SessionTable, sendOnSession, type Balance } from './sessions.js';

export const UdpOptionsSchema = Type.Object({
  backends: Type.Array(Type.String({ minLength: 3, description: 'host:port or [ipv6]:port' }), { minItems: 1 }),
  balance: Type.Union([Type.Literal('hash'), Type.Literal('round-robin')], { default: 'hash' }),
  idleTimeoutMs: Type.Integer({ minimum: 1, default: 60_000 }),
  maxSessions: Type.Integer({ minimum: 1, default: 10_000 }),
  replies: Type.Boolean({ default: true, description: 'relay backend datagrams back to the client' }),
}, { additionalProperties: false });

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

export async function createUdpDestination(name: string, options: UdpOptions, ctx: DestinationContext): Promise<UdpDestination> {
  const backends = await resolveBackends(options.backends).catch((err: Error) => {
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${name}": ${err.message}`, { cause: err });
  });
  const logger = ctx.logger.child({ destination: name, kind: 'udp' });
  const table = new SessionTable({
    backends, balance: options.balance ?? 'hash', idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxSessions: options.maxSessions ?? 10_000, replies: options.replies ?? true, clients: ctx.clients, logger,
  });
  let sendErrors = 0;
  let closed = false;

  function send(batch: readonly Packet[]): Promise<BatchResult> {
    if (batch.length === 0) return Promise.resolve({ outcomes: [] });
    if (closed) return Promise.resolve({ outcomes: allOutcomes(batch.length, retryable('udp destination is closed')) });
    const now = Date.now();
    const outcomes: DeliveryOutcome[] = new Array(batch.length);
    let pending = batch.length;
    return new Promise((resolve) => {
      const done = (i: number, err: Error | null | undefined): void => {
        if (err) { sendErrors++; outcomes[i] = retryable(`udp send failed: ${err.message}`); } else outcomes[i] = delivered;
        if (--pending === 0) resolve({ outcomes });
      };
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        try {
          sendOnSession(table.sessionFor(p, now), p.data, (err) => done(i, err));
        } catch (err) {
          done(i, err as Error);
        }
      }
    });
  }

  return {
    kind: 'udp',
    name,
    send,
    close: () => { closed = true; return table.close(); },
    status: () => ({ sessions: table.size, backends: backends.map((b) => b.label), sendErrors, ...table.stats }),
    backendOf: (listener, remote) => table.backendOf(listener, remote)?.label,
  };
}

export const udpDestination = defineDestinationKind({
  type: 'udp',
  options: UdpOptionsSchema,
  // Request/response: send as soon as the event-loop turn's packets are queued (no linger).
  batchDefaults: { lingerMs: 0 },
  create: (name, options, ctx) => createUdpDestination(name, options, ctx),
});
