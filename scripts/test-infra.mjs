#!/usr/bin/env node
// Runs the infra (CDK) package's tests as part of `npm test`. infra/ is its own package so the
// gateway's runtime stays lean; its dependencies are installed from its lockfile on first use.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const infra = join(dirname(fileURLToPath(import.meta.url)), '..', 'infra');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) => {
  const r = spawnSync(npm, args, { cwd: infra, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync(join(infra, 'node_modules', 'aws-cdk-lib'))) {
  console.log('infra/: installing its dependencies from infra/package-lock.json (first run only)');
  run(['ci', '--no-audit', '--no-fund']);
}
run(['test']);
