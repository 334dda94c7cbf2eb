/**
 * Linux listener transport on the udp_native addon: recvmmsg/sendmmsg on a non-blocking socket
 * polled by libuv. One JS call per received batch (the payloads copied into a pooled Buffer, each
 * datagram a subarray of it, so the pipeline may keep packets after onBatch returns); sends go
 * through the net layer's batched sender (batched-sender.ts: one addon call per full send slab,
 * a bounded backlog while the socket would block). Same interface as the dgram transport: a
 * drop-in.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Datagram, Endpoint } from '../gateway/packet.js';
import type { BatchHandler, BindOptions, OffloadTotals, OffloadedFlow, TransportFactory, UdpTransport } from '../gateway/extension/transport.js';
import { offloadTotals, pinFlow } from './native-flow.js';
import { BatchedSender, type SendQueue, type SendReport } from './batched-sender.js';
import { EINVAL, LISTENER_BACKLOG, MAX_SLOTS, errnoError } from './limits.js';
import {
  AddressNames, AddressWords, FLAG_TRUNCATED, META_WORDS, RECV, loadNativeAddon,
  type NativeAddon, type NativeSocket, type ReadCallback,
} from './native-addon.js';

/** Receive slab budget: slots x maxDatagramBytes stays under this (64 KiB datagrams -> 128 slots). */
const RECV_SLAB_BYTES = 8 * 1024 * 1024;
/** Socket buffers when the listener does not set them: large, so bursts wait in the kernel. */
const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface NativeTransportStats {
  /** Datagrams received longer than maxDatagramBytes (cut by the kernel, MSG_TRUNC). */
  truncated: number;
  /** Datagrams the kernel or validation refused to send (bad address, EMSGSIZE, ...). */
  refused: number;
  /** Datagrams dropped because the send backlog was full. */
  backlogDropped: number;
}

export const nativeTransport: TransportFactory = {
  kind: 'native',
  async bind(opts: BindOptions, onBatch: BatchHandler, onError: (err: Error) => void): Promise<UdpTransport> {
    const load = loadNativeAddon();
    if (!load.addon) throw new Error(`native UDP transport unavailable: ${load.reason}`);
    const host = isIP(opts.host) ? opts.host : (await lookup(opts.host)).address;
    return new NativeTransport(load.addon, { ...opts, host }, onBatch, onError);
  },
};

export class NativeTransport implements UdpTransport {
  readonly kind = 'native';
  readonly local;
  readonly stats: NativeTransportStats = { truncated: 0, refused: 0, backlogDropped: 0 };
  private readonly queue: SendQueue<Datagram>;
  private readonly sender: BatchedSender<Datagram>;
  private readonly recvMeta: Uint32Array;
  private readonly names: AddressNames;
  /** errno of the first refusal in the current send, for the one error it reports. */
  private firstErrno = 0;
  private closed = false;

  constructor(private readonly addon: NativeAddon, opts: BindOptions, private readonly onBatch: BatchHandler, private readonly onError: (err: Error) => void) {
    const slots = Math.max(16, Math.min(MAX_SLOTS, Math.floor(RECV_SLAB_BYTES / opts.maxDatagramBytes)));
    this.recvMeta = new Uint32Array(slots * META_WORDS);
    this.names = new AddressNames(addon);
    const sender = (this.sender = new BatchedSender<Datagram>(LISTENER_BACKLOG, new AddressWords(addon)));
    const socket: NativeSocket = new addon.UdpSocket({
      host: opts.host, port: opts.port, reusePort: opts.reusePort ?? false, slots, slotBytes: opts.maxDatagramBytes,
      recvBufferBytes: opts.receiveBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
      sendBufferBytes: opts.sendBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
      coalesceMicros: opts.receiveCoalesceMicros ?? 0,
    }, this.recvMeta, sender.payload, sender.meta, sender.status, this.onRead, this.onWritable);
    this.queue = { socket, backlog: [] };
    const [address, port] = socket.local();
    this.local = { address, port };
    socket.startReading();
  }

  private readonly onRead: ReadCallback = (count, batch, errno, offset = 0) => {
    if (errno !== 0 || !batch) { this.onError(errnoError(errno, 'recvmmsg')); return; }
    const m = this.recvMeta;
    const out = new Array<Datagram>(count);
    let pos = offset;
    for (let i = 0, b = 0; i < count; i++, b += META_WORDS) {
      const len = m[b + RECV.len]!;
      const a = b + RECV.addr;
      const address = this.names.lookup(m[b + RECV.family]!, m[a]!, m[a + 1]!, m[a + 2]!, m[a + 3]!);
      if (m[b + RECV.flags]! & FLAG_TRUNCATED) this.stats.truncated++;
      out[i] = { data: batch.subarray(pos, pos + len), address, port: m[b + RECV.port]! };
      pos += len;
    }
    try { this.onBatch(out); } catch (err) { this.onError(err as Error); }
  };

  /** Refusals count in stats and become one error per send; a full backlog drops and counts. */
  /** The caller's `refused` during a sendDatagrams (not while a backlog drains: those were counted as sent). */
  private refusedIndex: ((index: number) => void) | undefined;
  private readonly report: SendReport = {
    refused: (index, errno) => { this.stats.refused++; this.firstErrno ||= errno; this.refusedIndex?.(index); },
    dropped: (index) => { this.stats.backlogDropped++; this.refusedIndex?.(index); },
  };

  private readonly onWritable = (): void => {
    if (this.closed) { this.queue.backlog = []; return; }
    const before = this.stats.refused;
    this.firstErrno = 0;
    this.sender.drain(this.queue, this.report);
    this.reportRefused(before);
  };

  sendDatagrams(datagrams: readonly Datagram[], refused?: (index: number) => void): number {
    if (datagrams.length === 0) return 0;
    if (this.closed) { if (refused) for (let i = 0; i < datagrams.length; i++) refused(i); return datagrams.length; }
    const before = this.stats.refused, dropped = this.stats.backlogDropped;
    this.firstErrno = 0;
    this.refusedIndex = refused;
    try { this.sender.send(this.queue, datagrams, 0, undefined, this.report); } finally { this.refusedIndex = undefined; }
    this.reportRefused(before);
    return this.stats.refused - before + this.stats.backlogDropped - dropped;
  }

  private reportRefused(before: number): void {
    const refused = this.stats.refused - before;
    if (refused > 0) this.onError(errnoError(this.firstErrno || EINVAL, `udp send refused ${refused} datagram(s)`));
  }

  /** Receive coalescing at work (native/udp_poll.c): times it began, timer wake-ups, whether
   * active now, and the socket's readable wake-ups (with or without coalescing). */
  coalescing(): { starts: number; ticks: number; active: boolean; wakeups: number } {
    const [starts, ticks, active, wakeups] = this.queue.socket.coalescing?.() ?? [0, 0, 0, 0];
    return { starts, ticks, active: active === 1, wakeups };
  }

  pause(): void {
    if (!this.closed) this.queue.socket.stopReading();
  }

  /** Flow offload (net/native-flow.ts): `upstream` is a session socket of the same addon. Not while
   *  this socket has a send backlog (the client's replies would overtake it). */
  offload(client: Endpoint, upstream: object): OffloadedFlow | undefined {
    if (this.closed || this.queue.backlog.length > 0) return undefined;
    return pinFlow(this.addon, this.queue.socket, client, upstream);
  }

  offloadTotals(): OffloadTotals { return offloadTotals(this.queue.socket); }

  endOffload(): void { if (!this.closed) this.queue.socket.unpinAll?.(); }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.backlog = [];
    this.queue.socket.close();
  }
}
