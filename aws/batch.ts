/**
 * Helpers shared by the AWS destinations: one outcome per packet in order, and an SDK error turned
 * into outcomes instead of a throw. Splitting by the service limits is the core's (fanout/limits.ts).
 */
import { allOutcomes, type BatchResult, type DeliveryOutcome } from '../gateway/plugin-kit.js';
import type { Packet } from '../gateway/plugin-kit.js';
import { outcomeForAwsError } from './errors.js';

export type ChunkSender = (chunk: readonly Packet[]) => Promise<BatchResult>;

/** Call `send`; a thrown SDK error becomes the same outcome for every packet. (Batches arrive
 *  within the destination's declared limits: the core's batcher, gateway/fanout/limits.ts, splits.) */
export async function guarded(packets: readonly Packet[], send: ChunkSender): Promise<BatchResult> {
  try {
    return await send(packets);
  } catch (err) {
    return { outcomes: allOutcomes(packets.length, outcomeForAwsError(err)) };
  }
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
