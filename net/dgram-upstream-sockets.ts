/**
 * Portable upstream sockets: one node:dgram socket per peer, connected to it (no address lookup
 * per datagram, and the kernel drops datagrams from anyone else; a datagram from elsewhere is
 * reported as `foreign`). Until connect completes, datagrams are held in order and sent when it
 * does. One socket.send, and one callback, per datagram.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { UpstreamPeer, UpstreamSocketHooks } from './upstream-socket.js';

export type SendCallback = (err: Error | null | undefined) => void;

export interface DgramUpstreamSocket {
  readonly socket: Socket;
  /** Datagrams held while the socket connects; undefined once connected (or failed). */
  held: { data: Buffer; done: SendCallback }[] | undefined;
  /** Set when connect() failed or the socket closed: every send reports it. */
  failure: Error | undefined;
}

/** A socket connected (once connect completes) to `peer`. */
export function openDgramUpstreamSocket(peer: UpstreamPeer, hooks: UpstreamSocketHooks): DgramUpstreamSocket {
  const socket = createSocket(peer.family === 6 ? 'udp6' : 'udp4');
  const s: DgramUpstreamSocket = { socket, held: [], failure: undefined };
  socket.on('error', (err) => hooks.error(err));
  socket.on('message', (data, rinfo) => {
    if (rinfo.port !== peer.port || rinfo.address !== peer.address) hooks.foreign();
    else hooks.reply(data);
  });
  // connect() binds an ephemeral port first; held datagrams go out, in order, once it completes.
  socket.connect(peer.port, peer.address, (err?: Error) => {
    const held = s.held ?? [];
    s.held = undefined;
    if (err) s.failure = err;
    for (const h of held) sendOnDgramUpstream(s, h.data, h.done);
  });
  return s;
}

/** Sends one datagram (or holds it until connected); `done` hears the socket's answer. */
export function sendOnDgramUpstream(s: DgramUpstreamSocket, data: Buffer, done: SendCallback): void {
  if (s.held) s.held.push({ data, done });
  else if (s.failure) done(s.failure);
  else s.socket.send(data, done);
}

/** Closes the socket; held datagrams, and every later send, fail with "udp session closed". */
export function closeDgramUpstreamSocket(s: DgramUpstreamSocket): Promise<void> {
  const held = s.held ?? [];
  s.held = undefined;
  s.failure = new Error('udp session closed');
  for (const h of held) h.done(s.failure);
  return new Promise((resolve) => {
    s.socket.once('close', resolve);
    try { s.socket.close(); } catch { resolve(); /* already closed */ }
  });
}
