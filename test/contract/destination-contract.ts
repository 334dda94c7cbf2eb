/**
 * The shared contract every destination must pass (like aedes' persistence suite). Call it from a
 * test file with a setup that builds a fresh destination and a way to read back what it delivered:
 *
 *   destinationContract('sqs', async () => ({ destination, readBack, broken }));
 *
 * setup runs before each test, so each test sees only its own deliveries.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Destination } from '../../gateway/extension/destination.js';
import { samplePackets, sortedHex } from './packets.js';

export interface ContractFixture {
  readonly destination: Destination;
  /** The payload bytes delivered since setup, waiting (bounded) until at least `expected` arrived. */
  readBack(expected: number): Promise<Buffer[]>;
  /** A destination of the same kind whose service call fails (missing resource, refused connection). */
  broken(): Destination | Promise<Destination>;
  /** The service keeps send order (file lines, one HTTP body, one UDP session, a FIFO queue, a Kinesis
   *  shard, a log stream, one S3 object): the read-back is then compared in order, not as a set. */
  readonly ordered?: boolean;
  /** Release what setup created (besides the destination, which the suite closes). */
  teardown?(): Promise<void>;
}

export function destinationContract(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`destination contract: ${name}`, () => {
    let fx: ContractFixture | undefined;
    const extra: Destination[] = [];
    const fixture = (): ContractFixture => { if (!fx) throw new Error('contract setup failed'); return fx; };
    beforeEach(async () => { fx = undefined; fx = await setup(); });
    afterEach(async () => {
      await fx?.destination.close?.();
      for (const d of extra.splice(0)) await d.close?.();
      await fx?.teardown?.();
    });

    it('returns one delivered outcome per packet', async () => {
      const batch = samplePackets();
      const r = await fixture().destination.sendBatch(batch, new AbortController().signal);
      expect(r.outcomes).toHaveLength(batch.length);
      expect(r.outcomes.map((o) => o.status)).toEqual(batch.map(() => 'delivered'));
    });

    it('accepts an empty batch', async () => {
      const r = await fixture().destination.sendBatch([], new AbortController().signal);
      expect(r.outcomes).toEqual([]);
    });

    it('delivers the payload bytes exactly (read back from the service), in send order where the service keeps it', async () => {
      const batch = samplePackets();
      await fixture().destination.sendBatch(batch, new AbortController().signal);
      const got = await fixture().readBack(batch.length);
      if (fixture().ordered) expect(got.map((b) => b.toString('hex'))).toEqual(batch.map((p) => p.data.toString('hex')));
      else expect(sortedHex(got)).toEqual(sortedHex(batch.map((p) => p.data)));
    });

    it('close() can be called twice', async () => {
      await fixture().destination.close?.();
      await expect(fixture().destination.close?.()).resolves.toBeUndefined();
    });

    it('reports a service error as retryable/failed outcomes, never a throw', async () => {
      const d = await fixture().broken();
      extra.push(d);
      const batch = samplePackets();
      const r = await d.sendBatch(batch, new AbortController().signal);
      expect(r.outcomes).toHaveLength(batch.length);
      for (const o of r.outcomes) {
        expect(['retryable', 'failed']).toContain(o.status);
        expect(o.status === 'delivered' ? '' : o.reason).not.toBe('');
      }
    });
  });
}

/** Poll `read` until it returns at least `expected` items (bounded), then return what it has. */
export async function pollUntil<T>(read: () => Promise<T[]>, expected: number, tries = 40, delayMs = 100): Promise<T[]> {
  const all: T[] = [];
  for (let i = 0; i < tries && all.length < expected; i++) {
    all.push(...(await read()));
    if (all.length < expected) await new Promise((r) => setTimeout(r, delayMs));
  }
  return all;
}
