/** Batch limits are enforced in one place (gateway/fanout/limits.ts): the runner's batcher and withLimits. */
import { describe, expect, it } from 'vitest';
import { BatchLimits, splitWithinLimits, withLimits } from '../../gateway/fanout/limits.js';
import { delivered, type Destination } from '../../gateway/extension/destination.js';
import { makePacket } from '../contract/packets.js';

const sizes = (n: number[]) => n.map((k) => makePacket(Buffer.alloc(k)));

describe('limits and ordering', () => {
  it('splits a batch by packets and bytes and fails oversize packets, outcomes in order', async () => {
    const calls: number[] = [];
    const dest: Destination = {
      kind: 't', name: 't', limits: { maxBatchPackets: 2, maxBatchBytes: 12, maxPacketBytes: 20 },
      sendBatch: async (chunk) => { calls.push(chunk.length); return { outcomes: chunk.map(() => delivered) }; },
    };
    const r = await withLimits(dest).sendBatch(sizes([5, 5, 50, 5, 5, 5]), new AbortController().signal);
    expect(calls).toEqual([2, 2, 1]);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered', 'failed', 'delivered', 'delivered', 'delivered']);
    expect(r.outcomes[2]).toEqual({ status: 'failed', reason: 'oversize' });
  });

  it('measures packets as the service counts them and narrows to the user\'s batch settings', () => {
    const limits = new BatchLimits({ maxBatchPackets: 10, maxBatchBytes: 100, packetBytes: (p) => p.data.length * 2 }, { maxPackets: 3, maxBytes: 1000 });
    expect([limits.maxPackets, limits.maxBytes]).toEqual([3, 100]);
    const { chunks, oversize } = splitWithinLimits(sizes([10, 10, 10, 10, 60, 40, 40]), limits);
    expect(chunks.map((c) => c.indices)).toEqual([[0, 1, 2], [3, 5], [6]]);
    expect(oversize).toEqual([4]); // 120 counted bytes: over the service's 100 for one call
  });

  it('always lets the first packet into a batch, whatever the user\'s byte setting', () => {
    const limits = new BatchLimits({}, { maxPackets: 5, maxBytes: 4 });
    expect(splitWithinLimits(sizes([9, 9]), limits).chunks.map((c) => c.indices)).toEqual([[0], [1]]);
  });
});
