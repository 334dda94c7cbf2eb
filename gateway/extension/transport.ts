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
   * later (while a backlog drains) reach the transport's onError. `refused`, when given, is told
   * the list index of each of them (so a caller sending many counts the right bytes).
   */
  sendDatagrams(datagrams: readonly Datagram[], refused?: (index: number) => void): number;
  /** Stop receiving (drain), keep sending possible. */
  pause(): void;
  close(): Promise<void>;
  /**
   * Flow offload (native transport only; absent elsewhere): from now on this client's datagrams go
   * straight to `upstream` (an upstream socket of the same transport, its `offloadTarget`), and
   * upstream's datagrams straight back to the client from this socket, without the pipeline.
   * Undefined when it cannot. A datagram the transport cannot forward at once (a socket that would
   * block, a refusal) ends the offload and reaches the pipeline as before, with the flow's later ones.
   */
  offload?(client: Endpoint, upstream: object): OffloadedFlow | undefined;
  /** What offloaded flows forwarded since the socket opened. */
  offloadTotals?(): OffloadTotals;
  /** Ends every offloaded flow of this socket (its pipeline changed). */
  endOffload?(): void;
}

/** One client's offloaded flow: read what it forwarded (cumulative), or end it. */
export interface OffloadedFlow {
  read(): OffloadReading;
  /** The client's datagrams reach the pipeline again. Idempotent. */
  end(): void;
}

export interface OffloadReading {
  /** Still offloaded (false once ended, by end() or by the transport). */
  readonly active: boolean;
  /** Since the offload began: client → upstream, and upstream → client. */
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** Milliseconds since the last datagram each way (Infinity: none yet). */
  readonly idleInMs: number;
  readonly idleOutMs: number;
  /** errno of what ended it from the transport's side (EAGAIN, ECONNREFUSED, EMSGSIZE), 0 if none. */
  readonly errno: number;
}

export interface OffloadTotals {
  readonly flows: number;
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** Sends toward clients the kernel refused (counted, not sent again, as on the pipeline's path). */
  readonly outRefused: number;
  /** Datagrams the transport handed to the pipeline instead (the offload ended on them). */
  readonly handedBack: number;
}

export type BatchHandler = (batch: Datagram[]) => void;

export interface TransportFactory {
  readonly kind: string;
  bind(opts: BindOptions, onBatch: BatchHandler, onError: (err: Error) => void): Promise<UdpTransport>;
}
