/** Property tests over every outside-input parser, with a fixed seed, a few seconds each (test/fuzz/targets.ts). */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { targets } from './targets.js';

const SEED = 14;

describe('properties (fast-check, fixed seed)', () => {
  it.each(targets.map((t) => [t.name, t] as const))('%s', async (_name, t) => {
    await fc.assert(fc.asyncProperty(t.arbitrary, async (x) => { await t.check(x); }), { seed: SEED, numRuns: t.testRuns });
  });
});
