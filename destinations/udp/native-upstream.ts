/**
 * Upstream sockets on the udp_native addon: each session gets a socket connected to its backend,
 * and all sessions of a destination share one receive slab and one send slab (a UdpGroup), so
 * maxSessions sockets cost file descriptors, not slabs. A batch is grouped by session and each
 * session's datagrams leave with one sendmmsg(2). Every call into the addon completes before it
 * returns, on the one JS thread, so sharing the slabs is safe. When a socket would block (EAGAIN),
 * its remaining datagrams wait (in order, bounded) until libuv reports it writable.
 */
import { getSystemErrorName } from 'node:util';
import { delivered, retryable, type BatchResult, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { META_WORDS, RECV, SEND, SEND_ERRNO, type NativeAddon, type NativeSocket, type ReadCallback } from '../../net/native-addon.js';
import type { Backend } from './backends.js';
import { sendFailed, type UpstreamHooks, type Upstreams } from './upstream.js';

/** sendmmsg/recvmmsg take at most UIO_MAXIOV = 1024 messages per call (Linux). */
const MAX_SLOTS = 1024;
/** Payloads of one sendmmsg are packed here (shared by every session of the destination). */
const SEND_SLAB_BYTES = 1024 * 1024;
/** Replies: 32 slots of 64 KiB (the largest UDP payload, RFC 768), 2 MiB per destination. */
const RECV_SLOTS = 32;
const RECV_SLOT_BYTES = 65_536;
/** Datagrams a session keeps while its socket would block; beyond, packets are retryable. */
const MAX_BACKLOG = 1024;
const EMSGSIZE = 90;

export interface NativeLink {
  socket: NativeSocket | undefined;
  /** This session's packets in the batch being sent: a chain of batch indexes through `next`
   *  (shared by all sessions), first..last, -1 when none; no allocation per packet or batch. */
  first: number;
  last: number;
  /** Datagrams waiting for the socket to become writable, in order. */
  backlog: Buffer[];
  closed: boolean;
}

function errnoName(errno: number): string {
  try { return getSystemErrorName(-errno); } catch { return `errno ${errno}`; }
}

export function createNativeUpstreams(addon: NativeAddon): Upstreams<NativeLink> {
  const stats = { sendErrors: 0 };
  const recvMeta = new Uint32Array(RECV_SLOTS * META_WORDS);
  const payload = new Uint8Array(SEND_SLAB_BYTES);
  const meta = new Uint32Array(MAX_SLOTS * META_WORDS);
  const status = new Int32Array(2);
  const group = new addon.UdpGroup({ slots: RECV_SLOTS, slotBytes: RECV_SLOT_BYTES }, recvMeta, payload, meta, status);
  /** Batch index of the packet in each send slot, for refused datagrams' outcomes. */
  const slotPacket = new Int32Array(MAX_SLOTS);
  /** next[i] = the batch index of the same session's packet after packet i, or -1. Grown as needed. */
  let next = new Int32Array(1024);
  const touched: NativeLink[] = [];
  let touchedCount = 0;

  function open(backend: Backend, hooks: UpstreamHooks): NativeLink {
    const link: NativeLink = { socket: undefined, first: -1, last: -1, backlog: [], closed: false };
    const onRead: ReadCallback = (count, batch, errno, offset = 0) => {
      if (errno !== 0 || !batch) {
        hooks.error(Object.assign(new Error(`recvmmsg: ${errnoName(errno)}`), { code: errnoName(errno), errno }));
        return;
      }
      for (let i = 0, b = 0, pos = offset; i < count; i++, b += META_WORDS) {
        const len = recvMeta[b + RECV.len]!;
        hooks.reply(batch.subarray(pos, pos + len));
        pos += len;
      }
    };
    link.socket = new addon.UdpSession(group, backend.address, backend.port, onRead, () => drainBacklog(link));
    link.socket.startReading(); // also consumes errors queued on the socket (ICMP unreachable), as dgram does
    return link;
  }

  /** Writes one datagram into send slot `slot`. */
  function pack(slot: number, offset: number, data: Buffer): void {
    const b = slot * META_WORDS;
    meta[b + SEND.offset] = offset; meta[b + SEND.len] = data.length; meta[b + SEND_ERRNO] = 0;
    payload.set(data, offset);
  }

  /** Sends slots 0..count-1 on the socket; refused datagrams get 'retryable'. Returns how many left the slab. */
  function flush(link: NativeLink, count: number, batch: readonly Packet[] | undefined, outcomes: DeliveryOutcome[] | undefined): number {
    if (count === 0) return 0;
    const consumed = link.socket!.send(count);
    if (status[0]! > 0) {
      for (let k = 0; k < consumed; k++) {
        const errno = meta[k * META_WORDS + SEND_ERRNO]!;
        if (errno === 0) continue;
        const reason = `send ${errnoName(errno)}`;
        if (outcomes && batch) outcomes[slotPacket[k]!] = sendFailed(stats, reason); else stats.sendErrors++;
      }
    }
    return consumed;
  }

  /** The socket would block: keep the rest (in order) and send it when writable. */
  function park(link: NativeLink, rest: readonly Buffer[], outcomes: DeliveryOutcome[] | undefined, indexes: readonly number[] | undefined): void {
    for (let k = 0; k < rest.length; k++) {
      if (link.backlog.length < MAX_BACKLOG) link.backlog.push(rest[k]!);
      else if (outcomes && indexes) outcomes[indexes[k]!] = sendFailed(stats, 'upstream socket backlog full');
      else stats.sendErrors++;
    }
    link.socket!.watchWritable();
  }

  /** The batch indexes of a session's packets, from `from` on (for the rare would-block and closed paths). */
  function chain(from: number): number[] {
    const out: number[] = [];
    for (let i = from; i !== -1; i = next[i]!) out.push(i);
    return out;
  }

  /** One session's packets of this batch: packed and sent, one sendmmsg per full slab. */
  function sendPending(link: NativeLink, batch: readonly Packet[], outcomes: DeliveryOutcome[]): void {
    if (link.closed) { // evicted by a newer session of this same batch
      for (const i of chain(link.first)) outcomes[i] = retryable('udp send failed: udp session closed');
      return;
    }
    if (link.backlog.length > 0) {
      const rest = chain(link.first);
      return park(link, rest.map((i) => batch[i]!.data), outcomes, rest);
    }
    let count = 0, offset = 0;
    for (let i = link.first; i !== -1; i = next[i]!) {
      const data = batch[i]!.data;
      if (data.length > SEND_SLAB_BYTES) { outcomes[i] = sendFailed(stats, `send ${errnoName(EMSGSIZE)}`); continue; }
      if (count === MAX_SLOTS || offset + data.length > SEND_SLAB_BYTES) {
        const done = flush(link, count, batch, outcomes);
        if (done < count) return parkFrom(link, batch, outcomes, done, count, i);
        count = 0; offset = 0;
      }
      pack(count, offset, data);
      slotPacket[count++] = i;
      offset += data.length;
    }
    const done = flush(link, count, batch, outcomes);
    if (done < count) parkFrom(link, batch, outcomes, done, count, -1);
  }

  function parkFrom(link: NativeLink, batch: readonly Packet[], outcomes: DeliveryOutcome[], done: number, count: number, from: number): void {
    const indexes: number[] = [];
    for (let k = done; k < count; k++) indexes.push(slotPacket[k]!);
    indexes.push(...chain(from));
    park(link, indexes.map((i) => batch[i]!.data), outcomes, indexes);
  }

  /** Writable again: send what waited, in order; what still does not fit waits again. */
  function drainBacklog(link: NativeLink): void {
    const waiting = link.backlog;
    link.backlog = [];
    if (link.closed) return;
    let count = 0, offset = 0, from = 0;
    for (let j = 0; j <= waiting.length; j++) {
      const data = waiting[j];
      if (data === undefined || count === MAX_SLOTS || offset + data.length > SEND_SLAB_BYTES) {
        const done = flush(link, count, undefined, undefined);
        if (done < count) return park(link, waiting.slice(from + done), undefined, undefined);
        from = j; count = 0; offset = 0;
      }
      if (data === undefined) break;
      pack(count++, offset, data);
      offset += data.length;
    }
  }

  function relay(batch: readonly Packet[], sessionOf: (p: Packet) => { readonly upstream: NativeLink }): BatchResult {
    const outcomes: DeliveryOutcome[] = new Array(batch.length);
    if (next.length < batch.length) next = new Int32Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      let link: NativeLink;
      try { link = sessionOf(batch[i]!).upstream; } catch (err) { outcomes[i] = sendFailed(stats, (err as Error).message); continue; }
      if (link.closed) { outcomes[i] = retryable('udp send failed: udp session closed'); continue; }
      next[i] = -1;
      if (link.first === -1) { link.first = i; touched[touchedCount++] = link; } else next[link.last] = i;
      link.last = i;
    }
    for (let t = 0; t < touchedCount; t++) {
      const link = touched[t]!;
      try { sendPending(link, batch, outcomes); } finally { link.first = -1; link.last = -1; }
    }
    touchedCount = 0;
    for (let i = 0; i < outcomes.length; i++) if (outcomes[i] === undefined) outcomes[i] = delivered;
    return { outcomes };
  }

  async function close(link: NativeLink): Promise<void> {
    if (link.closed) return;
    link.closed = true;
    link.backlog = [];
    link.socket?.close();
  }

  return { kind: 'native', stats, open, relay, close };
}
