/**
 * Portable transport on node:dgram. Datagrams arriving in one event-loop turn are collected and
 * handed over as one batch (flushed with setImmediate, after libuv's poll phase).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
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

  /** Largest UDP payload: 65,507 bytes over IPv4 (RFC 768 length less IP and UDP headers), 65,527 over IPv6. */
  private readonly maxPayload: number;

  constructor(private readonly socket: Socket, opts: BindOptions, private readonly onBatch: BatchHandler, private readonly onError: (err: Error) => void) {
    const a = socket.address();
    this.maxPayload = a.family === 'IPv6' ? 65_527 : 65_507;
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

  /** Refuses here what the socket would refuse (a bad port or address, a datagram over the UDP
   *  maximum, which node:dgram reports only later); errors the socket reports later go to onError. */
  sendDatagrams(datagrams: readonly Datagram[], onRefused?: (index: number) => void): number {
    let refused = 0;
    for (let i = 0; i < datagrams.length; i++) {
      const d = datagrams[i]!;
      if (!this.closed && d.data.length <= this.maxPayload && d.port > 0 && d.port < 65536 && isIP(d.address) !== 0) {
        try { this.socket.send(d.data, d.port, d.address, this.onSent); continue; } catch { /* refused */ }
      }
      refused++;
      onRefused?.(i);
    }
    return refused;
  }

  private readonly onSent = (err: Error | null): void => { if (err) this.onError(err); };

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
