/**
 * The udp destination's sessions on the net layer's native upstream sockets
 * (net/native-upstream-sockets.ts: connected addon sockets sharing one group's slabs, a batch
 * grouped by socket, one sendmmsg per session per full slab, a bounded backlog while a socket
 * would block). This file turns what the net layer reports into per-packet outcomes: a refused
 * datagram is 'retryable' with its errno, a full backlog 'retryable', a closed session's packets
 * 'retryable' (udp session closed), everything else 'delivered'.
 */
import { delivered, retryable, type BatchResult, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { constants } from 'node:os';
import { errnoName } from '../../net/limits.js';
import type { NativeAddon } from '../../net/native-addon.js';
import { NativeUpstreamSockets, type NativeUpstreamSocket, type UpstreamSendReport } from '../../net/native-upstream-sockets.js';
import type { SendReport } from '../../net/batched-sender.js';
import type { Backend } from './backends.js';
import { sendFailed, type UpstreamHooks, type Upstreams } from './upstream.js';

export type NativeLink = NativeUpstreamSocket<Packet>;

const ECONNREFUSED = constants.errno.ECONNREFUSED;

type SessionOf = (p: Packet) => { readonly upstream: NativeLink } | undefined;

export function createNativeUpstreams(addon: NativeAddon): Upstreams<NativeLink> {
  const stats = { sendErrors: 0 };
  const failedLater = (): void => { stats.sendErrors++; };
  const whenWritable: SendReport = { refused: failedLater, dropped: failedLater };
  const sockets = new NativeUpstreamSockets<Packet>(addon, whenWritable);
  /** The batch being relayed: its outcomes and how a packet finds its session. */
  let outcomes: DeliveryOutcome[] = [];
  let sessionOf: SessionOf = () => { throw new Error('no batch is being relayed'); };

  const report: UpstreamSendReport = {
    refused: (i, errno) => {
      outcomes[i] = sendFailed(stats, `send ${errnoName(errno)}`);
      if (errno === ECONNREFUSED && sockets.sending) upstreams.onRefused?.(sockets.sending);
    },
    dropped: (i) => { outcomes[i] = sendFailed(stats, 'upstream socket backlog full'); },
    closed: (i) => { outcomes[i] = retryable('udp send failed: udp session closed'); },
  };

  /** The socket of a packet's session; a session that cannot be had fails the packet. */
  function socketOf(p: Packet, i: number): NativeLink | undefined {
    try { return sessionOf(p)?.upstream; } catch (err) { outcomes[i] = sendFailed(stats, (err as Error).message); return undefined; }
  }

  function open(backend: Backend, hooks: UpstreamHooks): NativeLink {
    return sockets.open(backend, hooks);
  }

  function relay(batch: readonly Packet[], of: SessionOf): BatchResult {
    const out: DeliveryOutcome[] = (outcomes = new Array(batch.length));
    sessionOf = of;
    sockets.sendBatch(batch, socketOf, report);
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = delivered;
    return { outcomes: out };
  }

  async function close(link: NativeLink): Promise<void> {
    sockets.close(link);
  }

  /** One datagram by itself (never called while relay() groups a batch: the group's chains are shared). */
  function send(link: NativeLink, data: Buffer): void {
    const one = [{ data } as Packet];
    const saved = outcomes;
    outcomes = [];
    sockets.sendBatch(one, () => link, report); // a refusal is counted by sendFailed
    outcomes = saved;
  }

  function localPort(link: NativeLink): number | undefined {
    try { return link.socket.local()[1]; } catch { return undefined; }
  }

  const offloadTarget = (link: NativeLink): object | undefined => sockets.offloadTarget(link);
  const upstreams: Upstreams<NativeLink> = { kind: 'native', stats, open, relay, send, localPort, close, offloadTarget, onRefused: undefined };
  return upstreams;
}
