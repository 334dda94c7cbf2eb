/**
 * `npm run fuzz`: every target of test/fuzz/targets.ts for --runs inputs (default 1,000,000) from a
 * fresh seed (or --seed), counting failures instead of stopping at the first; prints inputs tried,
 * failures and the first counterexamples per target; exits 1 when any failed.
 *   npm run fuzz -- --runs=2000000 --seed=123 --only=config
 */
import fc from 'fast-check';
import { targets } from './targets.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(arg('runs') ?? 1_000_000);
const seed = Number(arg('seed') ?? (Date.now() % 2 ** 31));
const only = arg('only');

let anyFailed = false;
console.log(`fuzz: ${runs.toLocaleString('en')} inputs per target, seed ${seed}`);
for (const t of targets.filter((x) => !only || x.name.includes(only))) {
  let tried = 0, failures = 0;
  const examples: string[] = [];
  const started = process.hrtime.bigint();
  const property = fc.asyncProperty(t.arbitrary, async (x) => {
    tried++;
    try { await t.check(x); } catch (err) {
      failures++;
      if (examples.length < 3) examples.push(`${(err as Error).message} <- ${fc.stringify(x).slice(0, 300)}`);
    }
    return true; // counted, not stopped
  });
  await fc.check(property, { seed, numRuns: runs });
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  if (failures) anyFailed = true;
  console.log(`${t.name.padEnd(28)} inputs ${tried.toLocaleString('en').padStart(11)}  failures ${String(failures).padStart(5)}  ${s.toFixed(1)} s`);
  for (const e of examples) console.log(`    ${e}`);
}
process.exit(anyFailed ? 1 : 0);
