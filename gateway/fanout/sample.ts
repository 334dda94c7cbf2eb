/**
 * Sampling, a wrapper around any destination's lane of the fan-out (`sample: { every: N }`): only
 * one packet in N goes on (the Nth, 2Nth, …, counted per destination, so the share is exact); the
 * others are counted as udpgw_drops_total{reason="sampled-out"}. For a dual-write to an expensive
 * sink. Destinations without `sample` are not wrapped and pay nothing.
 */
import type { Destination } from '../extension/destination.js';
import type { Packet } from '../packet.js';

/** What the listener hands packets to: a destination runner, or a wrapper of one. */
export interface FanoutLane {
  readonly destination: Destination;
  /** Every packet enqueued is offered to the destination (a runner; not a sampling wrapper), so a
   *  listener whose only lane this is may let the destination's flows bypass it (flow offload). */
  readonly direct?: boolean;
  /** The runner's id (listener/destination), its metrics label; with `direct`. */
  readonly id?: string;
  enqueue(p: Packet): boolean;
  hold(): void;
  /** End of a receive batch; `now` is the batch's receive time (Date.now()), reused as the clock of
   *  what finishes within this call. */
  flush(now?: number): void;
}

export function withSampling(lane: FanoutLane, every: number, skipped: { inc(n?: number): void }): FanoutLane {
  if (every <= 1) return lane;
  let seen = 0;
  return {
    destination: lane.destination,
    hold: () => lane.hold(),
    flush: (now) => lane.flush(now),
    enqueue: (p) => {
      if (++seen < every) { skipped.inc(); return true; }
      seen = 0;
      return lane.enqueue(p);
    },
  };
}
