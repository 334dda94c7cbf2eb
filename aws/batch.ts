/**
 * Helpers shared by the AWS destinations: defensive splitting by the service limits (the core's
 * batcher already splits by Destination.limits; this keeps a direct caller within them too),
 * one outcome per packet in order, and an SDK error turned into outcomes instead of a throw.
 */
import { allOutcomes, failed, type BatchResult, type DeliveryOutcome, type DestinationLimits } from '../gateway/extension/destination.js';
import type { Packet, Reply } from '../gateway/packet.js';
import { outcomeForAwsError } from './errors.js';

export type ChunkSender = (chunk: readonly Packet[]) => Promise<BatchResult>;

/** Split `batch` into chunks that respect `limits`; oversize packets become 'failed: oversize'. */
export async function sendWithinLimits(batch: readonly Packet[], limits: DestinationLimits, send: ChunkSender): Promise<BatchResult> {
  const outcomes: DeliveryOutcome[] = new Array(batch.length);
  const replies: Reply[] = [];
  for (const { indices, packets } of chunk(batch, limits, outcomes)) {
    const r = await guarded(packets, send);
    indices.forEach((at, k) => { outcomes[at] = r.outcomes[k] ?? failed('destination returned no outcome'); });
    if (r.replies) replies.push(...r.replies);
  }
  return replies.length ? { outcomes, replies } : { outcomes };
}

/** Call `send`; a thrown SDK error becomes the same outcome for every packet. */
export async function guarded(packets: readonly Packet[], send: ChunkSender): Promise<BatchResult> {
  try {
    return await send(packets);
  } catch (err) {
    return { outcomes: allOutcomes(packets.length, outcomeForAwsError(err)) };
  }
}

interface Chunk { indices: number[]; packets: Packet[] }

function chunk(batch: readonly Packet[], limits: DestinationLimits, outcomes: DeliveryOutcome[]): Chunk[] {
  const maxPackets = limits.maxBatchPackets ?? Infinity;
  const maxBytes = limits.maxBatchBytes ?? Infinity;
  const sizeOf = limits.packetBytes ?? ((p: Packet) => p.data.length);
  const chunks: Chunk[] = [];
  let cur: Chunk = { indices: [], packets: [] };
  let bytes = 0;
  batch.forEach((p, i) => {
    const size = sizeOf(p);
    if (size > (limits.maxPacketBytes ?? Infinity) || size > maxBytes) { outcomes[i] = failed('oversize'); return; }
    if (cur.packets.length > 0 && (cur.packets.length >= maxPackets || bytes + size > maxBytes)) {
      chunks.push(cur);
      cur = { indices: [], packets: [] };
      bytes = 0;
    }
    cur.indices.push(i);
    cur.packets.push(p);
    bytes += size;
  });
  if (cur.packets.length) chunks.push(cur);
  return chunks;
}

/** Memoise an encoder per packet (packetBytes and send both need the encoded entry). */
export function memoPerPacket<T>(encode: (p: Packet) => T): (p: Packet) => T {
  const cache = new WeakMap<Packet, T>();
  return (p) => {
    let v = cache.get(p);
    if (v === undefined) { v = encode(p); cache.set(p, v); }
    return v;
  };
}

/** Map per-entry results (by entry Id = index in the chunk) to outcomes. */
export function outcomesById(n: number, failures: Iterable<[number, DeliveryOutcome]>, base: DeliveryOutcome): DeliveryOutcome[] {
  const out = allOutcomes(n, base);
  for (const [i, o] of failures) if (i >= 0 && i < n) out[i] = o;
  return out;
}
