/**
 * The udp destination's sessions on the net layer's node:dgram upstream sockets
 * (net/dgram-upstream-sockets.ts: one connected socket per session, datagrams held until connect
 * completes, one send per datagram). This file turns each send's callback into the packet's
 * outcome: 'delivered', or 'retryable' with the socket's error.
 */
import { delivered, type BatchResult, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import {
  closeDgramUpstreamSocket, openDgramUpstreamSocket, sendOnDgramUpstream, type DgramUpstreamSocket,
} from '../../net/dgram-upstream-sockets.js';
import type { Backend } from './backends.js';
import { sendFailed, type UpstreamHooks, type Upstreams } from './upstream.js';

export type DgramLink = DgramUpstreamSocket;

export function createDgramUpstreams(): Upstreams<DgramLink> {
  const stats = { sendErrors: 0 };

  function relay(batch: readonly Packet[], sessionOf: (p: Packet) => { readonly upstream: DgramLink } | undefined): Promise<BatchResult> {
    const outcomes: DeliveryOutcome[] = new Array(batch.length);
    let pending = batch.length;
    return new Promise((resolve) => {
      const done = (i: number, err: Error | null | undefined): void => {
        outcomes[i] = err ? sendFailed(stats, err.message) : delivered;
        if (--pending === 0) resolve({ outcomes });
      };
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        try {
          const s = sessionOf(p);
          if (s === undefined) done(i, null);
          else sendOnDgramUpstream(s.upstream, p.data, (err) => done(i, err));
        } catch (err) {
          done(i, err as Error);
        }
      }
    });
  }

  return {
    kind: 'dgram',
    stats,
    open: (backend: Backend, hooks: UpstreamHooks) => openDgramUpstreamSocket(backend, hooks),
    relay,
    send: (link, data) => new Promise<void>((resolve) => sendOnDgramUpstream(link, data, (err) => { if (err) stats.sendErrors++; resolve(); })),
    localPort: (link) => { try { return link.socket.address().port; } catch { return undefined; /* not bound yet */ } },
    close: closeDgramUpstreamSocket,
    onRefused: undefined, // node:dgram reports a refusal to the socket's 'error' event (hooks.error)
  };
}
