/**
 * The one batched sender of the udp_native addon's sockets, used by listener sockets (unconnected:
 * each datagram carries its destination) and by udp upstream sockets (connected, many sharing one
 * UdpGroup's slabs). It packs datagrams into the send slab and makes one addon call (sendmmsg) per
 * full slab; reports each datagram that does not leave (refused by validation or by the kernel,
 * per slot: on a connected socket the addon writes the errno back into the slot, on an unconnected
 * one it zeroes the slot's family word); and keeps what would block (EAGAIN) in the socket's
 * bounded backlog, in order, sent when libuv reports the socket writable (`drain`). Later sends
 * queue behind a backlog.
 * Sharing one sender between sockets is safe: every addon call completes before it returns, on
 * the one JS thread.
 */
import type { Datagram } from '../gateway/packet.js';
import { META_WORDS, SEND, SEND_ERRNO, type AddressWords, type NativeSocket } from './native-addon.js';
import { EINVAL, EMSGSIZE, MAX_SLOTS, MAX_UDP_PAYLOAD, SEND_SLAB_BYTES } from './limits.js';

/** What becomes of datagrams that do not leave; `index` is the datagram's place in the list sent. */
export interface SendReport {
  /** Refused with `errno`. */
  refused(index: number, errno: number): void;
  /** Not kept: the socket's backlog was full. */
  dropped(index: number): void;
}

/** One socket as the sender sees it: the socket and what waits for it to become writable. */
export interface SendQueue<T> {
  readonly socket: NativeSocket;
  backlog: T[];
}

/** The walk over a list: in list order when `next` is undefined, else a chain through `next` to -1. */
function step(i: number, next: Int32Array | undefined, length: number): number {
  if (next !== undefined) return next[i]!;
  return i + 1 < length ? i + 1 : -1;
}

export class BatchedSender<T extends { readonly data: Uint8Array }> {
  /** The send slab and its metadata, handed to the addon once (UdpSocket, UdpGroup). */
  readonly payload = new Uint8Array(SEND_SLAB_BYTES);
  readonly meta = new Uint32Array(MAX_SLOTS * META_WORDS);
  /** Written by each send: [refused, errno of the last refusal]. */
  readonly status = new Int32Array(2);
  /** The list index of the datagram in each slot. */
  private readonly slotIndex = new Int32Array(MAX_SLOTS);

  /** `addresses` for unconnected sockets (T is then a Datagram); without it, connected ones. */
  constructor(private readonly maxBacklog: number, private readonly addresses?: AddressWords) {}

  /** Sends list[first] and the rest of the walk (see `step`), behind the socket's backlog if it has one. */
  send(q: SendQueue<T>, list: readonly T[], first: number, next: Int32Array | undefined, report: SendReport): void {
    if (list.length === 0) return;
    if (q.backlog.length > 0) return this.park(q, list, 0, 0, first, next, report);
    const addressed = this.addresses !== undefined, meta = this.meta, payload = this.payload, slotIndex = this.slotIndex;
    const n = list.length;
    let count = 0, offset = 0;
    // The hot loop: step() written out, slab and metadata in locals (measured: a few ns a datagram).
    for (let i = first; i !== -1; i = next === undefined ? (i + 1 < n ? i + 1 : -1) : next[i]!) {
      const item = list[i]!, data = item.data, len = data.length;
      const words = addressed ? this.destination(item) : undefined;
      if (len > MAX_UDP_PAYLOAD || (addressed && words === undefined)) {
        report.refused(i, addressed ? EINVAL : EMSGSIZE);
        continue;
      }
      if (count === MAX_SLOTS || offset + len > SEND_SLAB_BYTES) {
        const done = this.flush(q.socket, count, report);
        if (done < count) return this.park(q, list, done, count, i, next, report);
        count = 0; offset = 0;
      }
      const b = count * META_WORDS;
      meta[b + SEND.offset] = offset; meta[b + SEND.len] = len;
      if (words !== undefined) this.writeAddress(item, words, b); else meta[b + SEND_ERRNO] = 0;
      payload.set(data, offset);
      slotIndex[count++] = i;
      offset += len;
    }
    const done = this.flush(q.socket, count, report);
    if (done < count) this.park(q, list, done, count, -1, next, report);
  }

  /** The socket is writable again: sends what waited, in order; what still does not fit waits again. */
  drain(q: SendQueue<T>, report: SendReport): void {
    const waiting = q.backlog;
    q.backlog = [];
    this.send(q, waiting, 0, undefined, report);
  }

  /** Unconnected sockets: the datagram's destination words, or undefined if it cannot be sent there. */
  private destination(item: T): Uint32Array | undefined {
    const d = item as unknown as Datagram;
    const words = this.addresses!.lookup(d.address);
    return words[0] !== 0 && d.port > 0 && d.port < 65536 ? words : undefined;
  }

  /** Unconnected sockets: the destination words of slot meta[b..]. */
  private writeAddress(item: T, w: Uint32Array, b: number): void {
    const m = this.meta;
    m[b + SEND.port] = (item as unknown as Datagram).port; m[b + SEND.family] = w[0]!;
    m[b + SEND.addr] = w[1]!; m[b + SEND.addr + 1] = w[2]!; m[b + SEND.addr + 2] = w[3]!; m[b + SEND.addr + 3] = w[4]!;
  }

  /** Sends slots 0..count-1; returns how many left the slab (sent or refused), the rest would block. */
  private flush(socket: NativeSocket, count: number, report: SendReport): number {
    if (count === 0) return 0;
    const done = socket.send(count);
    if (this.status[0]! > 0) this.reportRefused(done, report);
    return done;
  }

  private reportRefused(done: number, report: SendReport): void {
    if (this.addresses !== undefined) {
      // Unconnected: a refused datagram's family word came back 0; the errno is the send's last.
      for (let k = 0, errno = this.status[1]!; k < done; k++) if (this.meta[k * META_WORDS + SEND.family] === 0) report.refused(this.slotIndex[k]!, errno);
      return;
    }
    for (let k = 0; k < done; k++) {
      const errno = this.meta[k * META_WORDS + SEND_ERRNO]!;
      if (errno !== 0) report.refused(this.slotIndex[k]!, errno);
    }
  }

  /** The socket would block: slots done..count-1, then the walk from `from`, wait in its backlog. */
  private park(q: SendQueue<T>, list: readonly T[], done: number, count: number, from: number,
    next: Int32Array | undefined, report: SendReport): void {
    for (let k = done; k < count; k++) this.enqueue(q, list, this.slotIndex[k]!, report);
    for (let i = from; i !== -1; i = step(i, next, list.length)) this.enqueue(q, list, i, report);
    q.socket.watchWritable();
  }

  private enqueue(q: SendQueue<T>, list: readonly T[], i: number, report: SendReport): void {
    if (q.backlog.length < this.maxBacklog) q.backlog.push(list[i]!);
    else report.dropped(i);
  }
}
