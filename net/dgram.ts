/**
 * Portable transport on node:dgram. Datagrams arriving in one event-loop turn are collected and
 * handed over as one batch (flushed with setImmediate, after libuv's poll phase).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Datagram } from '../gateway/packet.js';
import type { BatchHandler, BindOptions, TransportFactory, UdpTransport } from '../gateway/extension/transport.js';

/** Most datagrams handed over in one batch; a longer burst becomes several batches. */
const MAX_BATCH = 1024;

export const dgramTransport: TransportFactory = {
  kind: 'dgram',
  async bind(opts: BindOptions, onBatch: BatchHandler, onError: (err: Error) => void): Promise<UdpTransport> {
    const socket = createSocket({
      type: isIPv6(opts.host) ? 'udp6' : 'udp4',
      reuseAddr: opts.reusePort ?? false,
      ...(opts.receiveBufferBytes ? { recvBufferSize: opts.receiveBufferBytes } : {}),
      ...(opts.sendBufferBytes ? { sendBufferSize: opts.sendBufferBytes } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: opts.host, port: opts.port, exclusive: !opts.reusePort }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new DgramTransport(socket, opts, onBatch, onError);
  },
};

class DgramTransport implements UdpTransport {
  readonly kind = 'dgram';
  readonly local;
  private pending: Datagram[] = [];
  private scheduled = false;
  private closed = false;

  constructor(private readonly socket: Socket, opts: BindOptions, private readonly onBatch: BatchHandler, onError: (err: Error) => void) {
    const a = socket.address();
    this.local = { address: a.address, port: a.port };
    socket.on('error', onError);
    socket.on('message', (data, rinfo) => {
      // A datagram larger than maxDatagramBytes is cut here as recvmsg would cut it (MSG_TRUNC).
      this.pending.push({ data: data.length > opts.maxDatagramBytes ? data.subarray(0, opts.maxDatagramBytes) : data, address: rinfo.address, port: rinfo.port });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) { this.scheduled = true; setImmediate(this.flush); }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.onBatch(batch);
  };

  sendDatagrams(datagrams: readonly Datagram[]): void {
    if (this.closed) return;
    for (const d of datagrams) this.socket.send(d.data, d.port, d.address);
  }

  pause(): void {
    this.socket.removeAllListeners('message');
    this.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pause();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
