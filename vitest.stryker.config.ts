/**
 * The tests Stryker runs against each mutant (scripts/mutate.mjs): only the files that exercise the
 * module group being mutated, named in UDPGW_MUTATE_TESTS (comma-separated globs). Each group's run
 * stays short; the slow end-to-end files (CLI processes, the packed package, WireGuard, infra) stay out.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const include = (process.env.UDPGW_MUTATE_TESTS ?? '').split(',').filter(Boolean);
if (include.length === 0) throw new Error('vitest.stryker.config.ts: set UDPGW_MUTATE_TESTS (npm run mutate does)');

// Not mergeConfig: it would append to the base config's include instead of replacing it.
export default defineConfig({ test: { ...base.test, include } });
