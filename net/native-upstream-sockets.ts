/**
 * Upstream sockets on the udp_native addon: each socket is connected to one peer, and all sockets
 * of a group (one per udp destination) share one receive slab and the send slab of one batched
 * sender (a UdpGroup), so thousands of sockets cost file descriptors, not slabs. `sendBatch`
 * groups a list by socket (chained through one shared Int32Array: no allocation per datagram)
 * and each socket's datagrams leave through the batched sender, one sendmmsg per full slab.
 * A received batch is split into one `reply` per datagram.
 */
import { BatchedSender, type SendQueue, type SendReport } from './batched-sender.js';
import { UPSTREAM_BACKLOG, errnoError } from './limits.js';
import { META_WORDS, RECV, type NativeAddon, type NativeGroup, type NativeSocket, type ReadCallback } from './native-addon.js';
import type { UpstreamPeer, UpstreamSocketHooks } from './upstream-socket.js';

/** Replies: 32 slots of 64 KiB (the largest UDP payload, RFC 768), 2 MiB per group. */
const RECV_SLOTS = 32;
const RECV_SLOT_BYTES = 65_536;

export interface NativeUpstreamSocket<T> extends SendQueue<T> {
  /** This socket's datagrams in the list being sent: a chain of list indexes through the group's
   *  `next`, first..last, -1 when none. */
  first: number;
  last: number;
  closed: boolean;
}

/** A send's report, plus datagrams whose socket was closed (none of them is sent). */
export interface UpstreamSendReport extends SendReport {
  closed(index: number): void;
}

export class NativeUpstreamSockets<T extends { readonly data: Uint8Array }> {
  private readonly sender = new BatchedSender<T>(UPSTREAM_BACKLOG);
  private readonly recvMeta = new Uint32Array(RECV_SLOTS * META_WORDS);
  private readonly group: NativeGroup;
  /** next[i] = the list index of the same socket's datagram after datagram i, or -1. Grown as needed. */
  private next = new Int32Array(1024);
  private readonly touched: NativeUpstreamSocket<T>[] = [];
  private touchedCount = 0;

  /** `whenWritable` hears of datagrams refused or dropped while a backlog drains. */
  constructor(private readonly addon: NativeAddon, private readonly whenWritable: SendReport) {
    const s = this.sender;
    this.group = new addon.UdpGroup({ slots: RECV_SLOTS, slotBytes: RECV_SLOT_BYTES }, this.recvMeta, s.payload, s.meta, s.status);
  }

  /** A socket on an ephemeral port, connected to `peer`. Throws if the addon cannot open one. */
  open(peer: UpstreamPeer, hooks: UpstreamSocketHooks): NativeUpstreamSocket<T> {
    const onRead: ReadCallback = (count, batch, errno, offset = 0) => {
      if (errno !== 0 || !batch) { hooks.error(errnoError(errno, 'recvmmsg')); return; }
      for (let i = 0, b = 0, pos = offset; i < count; i++, b += META_WORDS) {
        const len = this.recvMeta[b + RECV.len]!;
        hooks.reply(batch.subarray(pos, pos + len));
        pos += len;
      }
    };
    const onWritable = (): void => { if (!s.closed) this.sender.drain(s, this.whenWritable); };
    const socket: NativeSocket = new this.addon.UdpSession(this.group, peer.address, peer.port, onRead, onWritable);
    const s: NativeUpstreamSocket<T> = { socket, backlog: [], first: -1, last: -1, closed: false };
    socket.startReading(); // also consumes errors queued on the socket (ICMP unreachable), as dgram does
    return s;
  }

  /**
   * Sends each datagram of `list` on the socket `socketOf` gives (undefined: skip it, the caller
   * has its outcome), each socket's datagrams in list order.
   */
  sendBatch(list: readonly T[], socketOf: (item: T, index: number) => NativeUpstreamSocket<T> | undefined, report: UpstreamSendReport): void {
    if (this.next.length < list.length) this.next = new Int32Array(list.length);
    const next = this.next;
    for (let i = 0; i < list.length; i++) {
      const s = socketOf(list[i]!, i);
      if (s === undefined) continue;
      if (s.closed) { report.closed(i); continue; }
      next[i] = -1;
      if (s.first === -1) { s.first = i; this.touched[this.touchedCount++] = s; } else next[s.last] = i;
      s.last = i;
    }
    for (let t = 0; t < this.touchedCount; t++) {
      const s = this.touched[t]!;
      try { this.sendChain(s, list, report); } finally { s.first = -1; s.last = -1; }
    }
    this.touchedCount = 0;
  }

  /** The socket whose datagrams are being sent (a report's refusal is about this socket). */
  sending: NativeUpstreamSocket<T> | undefined;

  private sendChain(s: NativeUpstreamSocket<T>, list: readonly T[], report: UpstreamSendReport): void {
    this.sending = s;
    if (s.closed) { // closed while this list was grouped (a session evicted by a newer one)
      for (let i = s.first; i !== -1; i = this.next[i]!) report.closed(i);
      return;
    }
    this.sender.send(s, list, s.first, this.next, report);
  }

  /** What a listener's transport pins the socket's flow to (flow offload), or undefined while the
   *  socket is closed or has a send backlog (offloaded datagrams would overtake it). */
  offloadTarget(s: NativeUpstreamSocket<T>): object | undefined {
    return s.closed || s.backlog.length > 0 ? undefined : s.socket;
  }

  /** Closes the socket; datagrams waiting in its backlog are forgotten. Idempotent. */
  close(s: NativeUpstreamSocket<T>): void {
    if (s.closed) return;
    s.closed = true;
    s.backlog = [];
    s.socket.close();
  }
}
