/**
 * A UDP transport owns one bound socket. The pipeline only ever sees batches, so a batched
 * receive path (recvmmsg/sendmmsg) plugs in without reshaping anything above it.
 */
import type { Datagram, Endpoint } from '../packet.js';

export interface BindOptions {
  readonly host: string;
  readonly port: number;
  readonly receiveBufferBytes?: number;
  readonly sendBufferBytes?: number;
  readonly maxDatagramBytes: number;
  /** Receive coalescing (native transport only; ignored by dgram): once the socket wakes up more
   *  than twice per this many µs (over 8 wake-ups), it is read on a timer every this many µs
   *  instead of on every datagram, until the ticks find less than one datagram each. 0: off. */
  readonly receiveCoalesceMicros?: number;
  /** SO_REUSEPORT, so several workers can bind the same address and port. */
  readonly reusePort?: boolean;
}

export interface UdpTransport {
  /** Name of the implementation, for logs and status ("dgram", "native"). */
  readonly kind: string;
  /** The address and port actually bound (port 0 resolved). */
  readonly local: Endpoint;
  /**
   * Send datagrams from this socket. Never throws for a single bad send: returns how many of them
   * were refused there and then (bad address or port, too large, the kernel's refusal, a full send
   * backlog), so the caller counts them as refused rather than sent. Refusals the socket reports
   * later (while a backlog drains) reach the transport's onError.
   */
  sendDatagrams(datagrams: readonly Datagram[]): number;
  /** Stop receiving (drain), keep sending possible. */
  pause(): void;
  close(): Promise<void>;
}

export type BatchHandler = (batch: Datagram[]) => void;

export interface TransportFactory {
  readonly kind: string;
  bind(opts: BindOptions, onBatch: BatchHandler, onError: (err: Error) => void): Promise<UdpTransport>;
}
