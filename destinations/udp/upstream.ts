/**
 * How a udp proxy session talks to its backend: the sockets are the net layer's, the outcomes
 * are decided here. Two implementations behave the same:
 * - `native` (native-upstream.ts on net/native-upstream-sockets.ts): connected sockets of the
 *   udp_native addon sharing one receive and one send slab; one sendmmsg per session socket.
 * - `dgram` (dgram-upstream.ts on net/dgram-upstream-sockets.ts): one connected node:dgram socket
 *   per session, one send per datagram.
 */
import { retryable, type BatchResult, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import type { UpstreamSocketHooks as UpstreamHooks } from '../../net/upstream-socket.js';
import type { Backend } from './backends.js';

/** What an upstream socket reports to its session: the net layer's hooks. */
export type { UpstreamHooks };

export type UpstreamKindName = 'native' | 'dgram';

/** The sessions of one udp destination: `U` is the per-session socket state. */
export interface Upstreams<U> {
  readonly kind: UpstreamKindName;
  /** Datagrams the socket refused or could not take (their packets got 'retryable'). */
  readonly stats: { sendErrors: number };
  /** Opens the socket of a new session to its backend. May throw (then its packets are retryable). */
  open(backend: Backend, hooks: UpstreamHooks): U;
  /** Sends every packet on its session's socket; one outcome per packet, in order. A packet whose
   *  session is undefined was taken care of by the session table (held while its router decides,
   *  or sent by itself): it is 'delivered'. */
  relay(batch: readonly Packet[], sessionOf: (p: Packet) => { readonly upstream: U } | undefined): Promise<BatchResult> | BatchResult;
  /** Sends one datagram by itself (replayed, rewritten or with a PROXY header); never during relay().
   *  A refusal is counted in stats.sendErrors. A promise when the datagram is handed over later
   *  (node:dgram, while the socket connects): it settles once it was (closing sooner fails it). */
  send(u: U, data: Buffer): void | Promise<void>;
  /** The local port of a session's socket (a Redis disconnect may name it), if it is bound. */
  localPort(u: U): number | undefined;
  /** Hears of a socket whose send was refused with ECONNREFUSED (an ICMP port unreachable the
   *  socket reported to a send rather than to a read); set by the session table. Called during relay(). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- set by the table, which knows U
  onRefused: ((u: any) => void) | undefined;
  /** What a listener's transport can pin a session's flow to (flow offload; native sockets without a
   *  send backlog), else undefined. Absent: no offload. */
  offloadTarget?(u: U): object | undefined;
  /** Closes one session's socket; datagrams still waiting for it fail with "udp session closed". */
  close(u: U): Promise<void>;
}

/** The outcome of a datagram the socket refused. */
export function sendFailed(stats: { sendErrors: number }, reason: string): DeliveryOutcome {
  stats.sendErrors++;
  return retryable(`udp send failed: ${reason}`);
}
