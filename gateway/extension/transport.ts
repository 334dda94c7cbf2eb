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
  /** SO_REUSEPORT, so several workers can bind the same address and port. */
  readonly reusePort?: boolean;
}

export interface UdpTransport {
  /** Name of the implementation, for logs and status ("dgram", "native"). */
  readonly kind: string;
  /** The address and port actually bound (port 0 resolved). */
  readonly local: Endpoint;
  /** Send datagrams from this socket. Never throws for a single bad send: returns how many were refused. */
  sendDatagrams(datagrams: readonly Datagram[]): void;
  /** Stop receiving (drain), keep sending possible. */
  pause(): void;
  close(): Promise<void>;
}

export type BatchHandler = (batch: Datagram[]) => void;

export interface TransportFactory {
  readonly kind: string;
  bind(opts: BindOptions, onBatch: BatchHandler, onError: (err: Error) => void): Promise<UdpTransport>;
}
