/**
 * Batch limits, enforced here and nowhere else: how big one sendBatch call may be (packets, bytes as
 * the service counts them) and which single packet can never be sent (oversize). The runner's
 * batcher takes its batches through `fits`; `withLimits` gives the same guarantee to a destination
 * called directly (the dead-letter, tests). Destinations declare their service's limits (with the
 * citation) in `Destination.limits` and never split batches themselves.
 */
import { failed, type BatchResult, type DeliveryOutcome, type Destination, type DestinationLimits } from '../extension/destination.js';
import type { Packet, Reply } from '../packet.js';
import { isPromise } from './promise.js';

export class BatchLimits {
  readonly maxPackets: number;
  readonly maxBytes: number;
  private readonly maxPacketBytes: number;

  /** The destination's limits, narrowed further by the user's batch settings when given. */
  constructor(private readonly limits: DestinationLimits = {}, batch?: { readonly maxPackets: number; readonly maxBytes: number }) {
    this.maxPackets = Math.min(batch?.maxPackets ?? Infinity, limits.maxBatchPackets ?? Infinity);
    this.maxBytes = Math.min(batch?.maxBytes ?? Infinity, limits.maxBatchBytes ?? Infinity);
    this.maxPacketBytes = Math.min(limits.maxPacketBytes ?? Infinity, limits.maxBatchBytes ?? Infinity);
  }

  /** Size of one packet as the service counts it (its encoded entry); default the datagram's length. */
  size(p: Packet): number {
    return this.limits.packetBytes ? this.limits.packetBytes(p) : p.data.length;
  }

  /** A packet the service can never take, whatever the batch. */
  oversize(size: number): boolean { return size > this.maxPacketBytes; }

  /** May a packet of `size` join a batch of `count` packets and `bytes` bytes? The first always may. */
  fits(count: number, bytes: number, size: number): boolean {
    return count === 0 || (count < this.maxPackets && bytes + size <= this.maxBytes);
  }
}

export interface Chunk { readonly indices: number[]; readonly packets: Packet[] }

/** Split a batch into chunks within the limits; the indexes of oversize packets apart. */
export function splitWithinLimits(batch: readonly Packet[], limits: BatchLimits): { chunks: Chunk[]; oversize: number[] } {
  const chunks: Chunk[] = [];
  const oversize: number[] = [];
  let cur: Chunk = { indices: [], packets: [] };
  let bytes = 0;
  batch.forEach((p, i) => {
    const size = limits.size(p);
    if (limits.oversize(size)) { oversize.push(i); return; }
    if (!limits.fits(cur.packets.length, bytes, size)) { chunks.push(cur); cur = { indices: [], packets: [] }; bytes = 0; }
    cur.indices.push(i);
    cur.packets.push(p);
    bytes += size;
  });
  if (cur.packets.length) chunks.push(cur);
  return { chunks, oversize };
}

const OVERSIZE = failed('oversize');

/** `dest`, called with any batch: split within its limits (one call per chunk, in order), oversize
 *  packets failed with reason 'oversize' without a call. */
export function withLimits(dest: Destination): Destination {
  const limits = new BatchLimits(dest.limits);
  return {
    ...dest,
    sendBatch: async (batch, signal): Promise<BatchResult> => {
      const { chunks, oversize } = splitWithinLimits(batch, limits);
      const outcomes: DeliveryOutcome[] = new Array(batch.length);
      for (const i of oversize) outcomes[i] = OVERSIZE;
      const replies: Reply[] = [];
      for (const c of chunks) {
        const r0 = dest.sendBatch(c.packets, signal);
        const r = isPromise(r0) ? await r0 : r0;
        c.indices.forEach((at, k) => { outcomes[at] = r.outcomes[k] ?? failed('destination returned no outcome'); });
        if (r.replies) replies.push(...r.replies);
      }
      return replies.length ? { outcomes, replies } : { outcomes };
    },
  };
}
