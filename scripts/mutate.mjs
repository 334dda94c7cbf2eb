#!/usr/bin/env node
/**
 * npm run mutate [-- group ...]: mutation testing (StrykerJS, vitest runner) of the security- and
 * delivery-critical modules, one Stryker run per group with only the tests of that group, so each
 * mutant runs a few fast files. Prints the score per module and in total; exits 1 when any module
 * or the total is under the break threshold (stryker.config.json thresholds.break).
 * Reports: reports/mutation/<group>.html and .json. See docs/testing.md.
 * `npm run mutate -- --report [group ...]` prints the table from the last reports without running.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const config = JSON.parse(readFileSync(join(root, 'stryker.config.json'), 'utf8'));
const BREAK = config.thresholds.break;

/** Group: the modules it mutates (file or file:lines), the test files that exercise them, and optionally
 *  its own per-mutant timeout (Stryker's timeoutMS; stryker.config.json's otherwise). */
export const GROUPS = {
  tag: { mutate: ['gateway/tag.ts'], tests: ['test/core/tag.test.ts'] },
  egress: {
    mutate: ['gateway/egress.ts', 'gateway/recent-clients.ts', 'gateway/cidr.ts'],
    tests: ['test/core/egress.test.ts', 'test/core/cidr.test.ts', 'test/core/egress-refused.test.ts'],
  },
  listener: {
    mutate: ['gateway/listener.ts'],
    tests: ['test/core/cidr.test.ts', 'test/core/pipeline.test.ts', 'test/core/rate-limit.test.ts', 'test/core/listener.test.ts'],
  },
  retry: {
    mutate: ['gateway/fanout/retry.ts', 'gateway/fanout/dead-letter.ts'],
    tests: ['test/core/retry.test.ts', 'test/core/runner.test.ts', 'test/core/dead-letter.test.ts'],
  },
  runner: {
    mutate: ['gateway/fanout/runner.ts'],
    tests: ['test/core/runner.test.ts', 'test/core/runner-lane.test.ts', 'test/core/runner-drain.test.ts', 'test/core/runner-disk.test.ts', 'test/core/runner-disk-drain.test.ts', 'test/core/dead-letter.test.ts', 'test/core/disk-buffer.test.ts', 'test/core/sample.test.ts'],
  },
  sns: { mutate: ['packet-source/sns-http/sns-handler.ts'], tests: ['test/packet-source/sns-handler.test.ts', 'test/packet-source/sns-http.test.ts'] },
  sqs: { mutate: ['packet-source/sqs/index.ts'], timeoutMS: 60_000, tests: ['test/packet-source/moto-sqs.test.ts', 'test/packet-source/sqs-body.test.ts'] },
  udp: { mutate: ['destinations/udp/sessions.ts', 'destinations/udp/offload.ts'], tests: ['test/destinations-local/udp.test.ts', 'test/destinations-local/udp-session-table.test.ts', 'test/destinations-local/udp-session-table-more.test.ts', 'test/destinations-local/udp-session-offload.test.ts', 'test/routers/sessions.test.ts', 'test/routers/admin-sessions.test.ts', 'test/routers/rules.test.ts', 'test/routers/module.test.ts'] },
  config: { mutate: ['gateway/config/schema.ts'], tests: ['test/core/config.test.ts', 'test/core/config-bounds.test.ts', 'test/core/config-hostile.test.ts'] },
  // Only the shutdown and signal code of these two files: line ranges found when the run starts.
  shutdown: {
    mutate: [
      { file: 'app/gateway.ts', from: /^\s+shutdown\(deadlineMs/, to: /^  }$/, through: /^\s+private async doShutdown\(/ },
      { file: 'app/run.ts', from: /^export function handleSignals\(/, to: /^}$/ },
    ],
    tests: ['test/core/shutdown.test.ts'],
  },
};

/** `file:first-last` for a region of a file: from the line matching `from` to the first line matching
 *  `to` (after the line matching `through`, when given), so the range follows the code as it moves. */
function region(m) {
  if (typeof m === 'string') return m;
  const lines = readFileSync(join(root, m.file), 'utf8').split('\n');
  const first = lines.findIndex((l) => m.from.test(l));
  const after = m.through ? lines.findIndex((l, i) => i >= first && m.through.test(l)) : first;
  const last = lines.findIndex((l, i) => i > after && m.to.test(l));
  if (first < 0 || after < 0 || last < 0) throw new Error(`mutate: cannot find the region of ${m.file} (${m.from} … ${m.to})`);
  return `${m.file}:${first + 1}-${last + 1}`;
}

/** Stryker's score: detected (killed, timed out) over valid mutants (detected, survived, no coverage). */
function score(mutants) {
  const c = { detected: 0, survived: 0, noCoverage: 0, ignored: 0 };
  for (const m of mutants) {
    if (m.status === 'Killed' || m.status === 'Timeout') c.detected++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'NoCoverage') c.noCoverage++;
    else if (m.status === 'Ignored') c.ignored++;
  }
  const valid = c.detected + c.survived + c.noCoverage;
  return { ...c, valid, score: valid ? (100 * c.detected) / valid : 100 };
}

const reportOnly = process.argv.includes('--report');
const wanted = process.argv.slice(2).filter((a) => a !== '--report');
for (const g of wanted) if (!GROUPS[g]) { console.error(`unknown group "${g}": use ${Object.keys(GROUPS).join(', ')}`); process.exit(2); }
const groups = wanted.length ? wanted : Object.keys(GROUPS);
const out = join(root, 'reports/mutation');
mkdirSync(out, { recursive: true });

const rows = [];
let failed = false;
const started = Date.now();
for (const name of groups) {
  const g = GROUPS[name];
  const t0 = Date.now();
  if (reportOnly) {
    const saved = join(out, `${name}.json`);
    if (!existsSync(saved)) { console.error(`${name}: no report yet (${saved})`); failed = true; continue; }
    for (const [file, f] of Object.entries(JSON.parse(readFileSync(saved, 'utf8')).files)) rows.push({ group: name, file, ...score(f.mutants) });
    continue;
  }
  const mutate = g.mutate.map(region);
  console.log(`\n== mutate ${name}: ${mutate.join(', ')}  (tests: ${g.tests.join(', ')})`);
  const report = join(out, 'mutation.json');
  rmSync(report, { force: true }); // a run that fails early must not be read as the last one's report
  // A group may need a longer per-mutant timeout (sqs: moto-backed tests, which time out under load).
  const timeout = g.timeoutMS ? ['--timeoutMS', String(g.timeoutMS)] : [];
  const r = spawnSync('npx', ['stryker', 'run', '--mutate', mutate.join(','), ...timeout], {
    cwd: root, stdio: 'inherit', env: { ...process.env, UDPGW_MUTATE_TESTS: g.tests.join(',') },
  });
  if (!existsSync(report)) { console.error(`${name}: stryker wrote no report (exit ${r.status})`); failed = true; continue; }
  copyFileSync(report, join(out, `${name}.json`));
  if (existsSync(join(out, 'mutation.html'))) copyFileSync(join(out, 'mutation.html'), join(out, `${name}.html`));
  const files = JSON.parse(readFileSync(report, 'utf8')).files;
  for (const [file, f] of Object.entries(files)) rows.push({ group: name, file, ...score(f.mutants), minutes: (Date.now() - t0) / 60_000 });
  if (r.status !== 0) failed = true; // under thresholds.break, or the run itself failed
}

const all = score(rows.flatMap((r) => Array.from({ length: r.detected }, () => ({ status: 'Killed' }))
  .concat(Array.from({ length: r.survived }, () => ({ status: 'Survived' })), Array.from({ length: r.noCoverage }, () => ({ status: 'NoCoverage' })))));
console.log('\nmodule                                     score  killed survived no-cov ignored');
for (const r of rows) {
  console.log(`${r.file.padEnd(42)} ${r.score.toFixed(1).padStart(5)}% ${String(r.detected).padStart(7)} ${String(r.survived).padStart(8)} ${String(r.noCoverage).padStart(6)} ${String(r.ignored).padStart(7)}`);
  if (r.score < BREAK) failed = true;
}
console.log(`${'total'.padEnd(42)} ${all.score.toFixed(1).padStart(5)}% ${String(all.detected).padStart(7)} ${String(all.survived).padStart(8)} ${String(all.noCoverage).padStart(6)}`);
console.log(`\n${groups.length} group(s) in ${((Date.now() - started) / 60_000).toFixed(1)} min; break threshold ${BREAK}%`);
if (all.score < BREAK) failed = true;
process.exit(failed ? 1 : 0);
