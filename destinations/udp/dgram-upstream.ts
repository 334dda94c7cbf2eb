/**
 * Portable upstream sockets: one node:dgram socket per session, connected to its backend (no
 * address lookup per datagram, and the kernel drops datagrams from anyone else). Until connect
 * completes, datagrams are held in order and sent when it does. One socket.send per datagram.
 */
import { createSocket, type Socket } from 'node:dgram';
import { delivered, type BatchResult, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import type { Backend } from './backends.js';
import { sendFailed, type UpstreamHooks, type Upstreams } from './upstream.js';

type SendCallback = (err: Error | null | undefined) => void;

export interface DgramLink {
  readonly socket: Socket;
  /** Datagrams held while the socket connects; undefined once connected (or failed). */
  held: { data: Buffer; done: SendCallback }[] | undefined;
  /** Set when connect() failed or the session closed: every send reports it. */
  failure: Error | undefined;
}

function sendOn(link: DgramLink, data: Buffer, done: SendCallback): void {
  if (link.held) link.held.push({ data, done });
  else if (link.failure) done(link.failure);
  else link.socket.send(data, done);
}

export function createDgramUpstreams(): Upstreams<DgramLink> {
  const stats = { sendErrors: 0 };

  function open(backend: Backend, hooks: UpstreamHooks): DgramLink {
    const socket = createSocket(backend.family === 6 ? 'udp6' : 'udp4');
    const link: DgramLink = { socket, held: [], failure: undefined };
    socket.on('error', (err) => hooks.error(err));
    socket.on('message', (data, rinfo) => {
      if (rinfo.port !== backend.port || rinfo.address !== backend.address) hooks.foreign();
      else hooks.reply(data);
    });
    // connect() binds an ephemeral port first; held datagrams go out, in order, once it completes.
    socket.connect(backend.port, backend.address, (err?: Error) => {
      const held = link.held ?? [];
      link.held = undefined;
      if (err) link.failure = err;
      for (const h of held) sendOn(link, h.data, h.done);
    });
    return link;
  }

  function relay(batch: readonly Packet[], sessionOf: (p: Packet) => { readonly upstream: DgramLink }): Promise<BatchResult> {
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
          sendOn(sessionOf(p).upstream, p.data, (err) => done(i, err));
        } catch (err) {
          done(i, err as Error);
        }
      }
    });
  }

  function close(link: DgramLink): Promise<void> {
    const held = link.held ?? [];
    link.held = undefined;
    link.failure = new Error('udp session closed');
    for (const h of held) h.done(link.failure);
    return new Promise((resolve) => {
      link.socket.once('close', resolve);
      try { link.socket.close(); } catch { resolve(); /* already closed */ }
    });
  }

  return { kind: 'dgram', stats, open, relay, close };
}
