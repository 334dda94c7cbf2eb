/** Deterministic "random" bytes for known-answer tests: BLAKE2s(seed || counter) blocks. Never for real keys. */
import { createHash } from 'node:crypto';

export function seededRandom(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n: number) => {
    const out: Buffer[] = [];
    for (let have = 0; have < n; have += 32) out.push(createHash('blake2s256').update(`${seed}/${counter++}`).digest());
    return Buffer.concat(out).subarray(0, n);
  };
}
