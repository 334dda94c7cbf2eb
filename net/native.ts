/**
 * Linux transport on the udp_native addon: recvmmsg/sendmmsg on a non-blocking socket polled by
 * libuv. One JS call per received batch (the payloads copied into a pooled Buffer, each datagram a
 * subarray of it, so the pipeline may keep packets after onBatch returns), one addon call per
 * sent batch (payloads packed into a send slab). Same interface as the dgram transport: a drop-in.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { Datagram } from '../gateway/packet.js';
import type { BatchHandler, BindOptions, TransportFactory, UdpTransport } from '../gateway/extension/transport.js';
import {
  AddressNames, AddressWords, FLAG_TRUNCATED, META_WORDS, RECV, SEND, loadNativeAddon,
  type NativeAddon, type NativeSocket, type ReadCallback,
} from './native-addon.js';

/** recvmmsg/sendmmsg take at most UIO_MAXIOV = 1024 messages per call (Linux). */
const MAX_SLOTS = 1024;
/** Receive slab budget: slots x maxDatagramBytes stays under this (64 KiB datagrams -> 128 slots). */
const RECV_SLAB_BYTES = 8 * 1024 * 1024;
/** Send slab: payloads of one sendmmsg batch are packed here. */
const SEND_SLAB_BYTES = 1024 * 1024;
/** Largest UDP payload (RFC 768 length field; IPv4 allows 65507, the kernel refuses beyond). */
const MAX_UDP_PAYLOAD = 65535;
/** Socket buffers when the listener does not set them: large, so bursts wait in the kernel. */
const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Datagrams kept while the socket is not writable (EAGAIN); beyond, sends are dropped and counted. */
const MAX_BACKLOG = 16384;

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

function errnoError(errno: number, what: string): Error {
  let name = `errno ${errno}`;
  try { name = getSystemErrorName(-errno); } catch { /* unknown errno: keep the number */ }
  return Object.assign(new Error(`${what}: ${name}`), { code: name, errno });
}

export class NativeTransport implements UdpTransport {
  readonly kind = 'native';
  readonly local;
  readonly stats: NativeTransportStats = { truncated: 0, refused: 0, backlogDropped: 0 };
  private readonly socket: NativeSocket;
  private readonly recvMeta: Uint32Array;
  private readonly sendPayload = new Uint8Array(SEND_SLAB_BYTES);
  private readonly sendMeta = new Uint32Array(MAX_SLOTS * META_WORDS);
  private readonly status = new Int32Array(2);
  private readonly names: AddressNames;
  private readonly destinations: AddressWords;
  private readonly packed: Datagram[] = [];
  private backlog: Datagram[] = [];
  private closed = false;

  constructor(addon: NativeAddon, opts: BindOptions, private readonly onBatch: BatchHandler, private readonly onError: (err: Error) => void) {
    const slots = Math.max(16, Math.min(MAX_SLOTS, Math.floor(RECV_SLAB_BYTES / opts.maxDatagramBytes)));
    this.recvMeta = new Uint32Array(slots * META_WORDS);
    this.names = new AddressNames(addon);
    this.destinations = new AddressWords(addon);
    this.socket = new addon.UdpSocket({
      host: opts.host, port: opts.port, reusePort: opts.reusePort ?? false, slots, slotBytes: opts.maxDatagramBytes,
      recvBufferBytes: opts.receiveBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
      sendBufferBytes: opts.sendBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
    }, this.recvMeta, this.sendPayload, this.sendMeta, this.status, this.onRead, this.onWritable);
    const [address, port] = this.socket.local();
    this.local = { address, port };
    this.socket.startReading();
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

  private readonly onWritable = (): void => {
    const waiting = this.backlog;
    this.backlog = [];
    if (!this.closed) this.sendFrom(waiting, 0);
  };

  sendDatagrams(datagrams: readonly Datagram[]): void {
    if (this.closed || datagrams.length === 0) return;
    if (this.backlog.length > 0) this.enqueue(datagrams, 0);
    else this.sendFrom(datagrams, 0);
  }

  /** Packs datagrams into the send slab and sends them, one addon call per full slab. */
  private sendFrom(list: readonly Datagram[], start: number): void {
    const refusedBefore = this.stats.refused;
    let lastErrno = 0;
    let count = 0;
    let offset = 0;
    for (let i = start; i < list.length; i++) {
      const d = list[i]!;
      const len = d.data.length;
      if (count === MAX_SLOTS || offset + len > SEND_SLAB_BYTES) {
        const consumed = this.flush(count);
        lastErrno ||= this.status[1]!;
        if (consumed < count) { this.park(consumed, count, list, i); return this.reportRefused(refusedBefore, lastErrno); }
        count = 0; offset = 0;
      }
      if (!this.pack(d, count, offset)) { this.stats.refused++; lastErrno ||= 22; continue; }
      this.packed[count++] = d;
      offset += len;
    }
    const consumed = this.flush(count);
    lastErrno ||= this.status[1]!;
    if (consumed < count) this.park(consumed, count, list, list.length);
    this.reportRefused(refusedBefore, lastErrno);
  }

  /** Writes one datagram into slot `slot` of the send slab; false if it cannot be sent at all. */
  private pack(d: Datagram, slot: number, offset: number): boolean {
    const words = this.destinations.lookup(d.address);
    if (words[0] === 0 || d.data.length > MAX_UDP_PAYLOAD || !(d.port > 0 && d.port < 65536)) return false;
    const m = this.sendMeta;
    const b = slot * META_WORDS;
    m[b + SEND.offset] = offset; m[b + SEND.len] = d.data.length; m[b + SEND.port] = d.port; m[b + SEND.family] = words[0]!;
    m[b + SEND.addr] = words[1]!; m[b + SEND.addr + 1] = words[2]!; m[b + SEND.addr + 2] = words[3]!; m[b + SEND.addr + 3] = words[4]!;
    this.sendPayload.set(d.data, offset);
    return true;
  }

  private flush(count: number): number {
    if (count === 0) { this.status[1] = 0; return 0; }
    const consumed = this.socket.send(count);
    this.stats.refused += this.status[0]!;
    return consumed;
  }

  /** The socket would block: keep what was not sent, in order, and send it when writable. */
  private park(consumed: number, count: number, list: readonly Datagram[], next: number): void {
    for (let k = consumed; k < count; k++) this.enqueueOne(this.packed[k]!);
    this.enqueue(list, next);
    this.socket.watchWritable();
  }

  private enqueue(list: readonly Datagram[], from: number): void {
    for (let i = from; i < list.length; i++) this.enqueueOne(list[i]!);
  }

  private enqueueOne(d: Datagram): void {
    if (this.backlog.length < MAX_BACKLOG) this.backlog.push(d);
    else this.stats.backlogDropped++;
  }

  private reportRefused(before: number, errno: number): void {
    const refused = this.stats.refused - before;
    if (refused > 0) this.onError(errnoError(errno || 22, `udp send refused ${refused} datagram(s)`));
  }

  pause(): void {
    if (!this.closed) this.socket.stopReading();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.backlog = [];
    this.socket.close();
  }
}
