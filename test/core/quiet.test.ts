/**
 * Quiet, truthful output: the engines field is what the dependencies really need (no EBADENGINE at
 * install), the test runs silence the AWS SDK's Node-version notice by its own switch, and the
 * gateway itself never sets that switch (users see the notice at run time).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import semver from 'semver';
import { ROOT } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; dependencies: Record<string, string> };

/** Every package the gateway needs at run time (its dependencies, transitively), with its engines.node. */
function runtimePackages(): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const visit = (name: string, from: string): void => {
    let dir = from;
    for (;;) {
      const candidate = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(candidate)) {
        const j = JSON.parse(readFileSync(candidate, 'utf8')) as { version: string; engines?: { node?: string }; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
        const key = `${name}@${j.version}`;
        if (out.has(key)) return;
        out.set(key, j.engines?.node);
        const base = join(candidate, '..');
        for (const dep of Object.keys({ ...j.dependencies, ...j.optionalDependencies })) visit(dep, base);
        return;
      }
      if (dir === ROOT || dir === join(dir, '..')) return; // an optional dependency for another platform
      dir = join(dir, '..');
    }
  };
  for (const dep of Object.keys(pkg.dependencies)) visit(dep, ROOT);
  return out;
}

describe('quiet output', () => {
  it('engines.node is truthful: its lowest version satisfies every runtime dependency', () => {
    const lowest = semver.minVersion(pkg.engines.node)!.version;
    const packages = runtimePackages();
    expect(packages.size).toBeGreaterThan(50);
    const refusing = [...packages].filter(([, range]) => range && !semver.satisfies(lowest, range)).map(([k, range]) => `${k} wants node ${range}`);
    expect(refusing).toEqual([]);
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  it('the test processes silence the AWS SDK notice with its own switch; without it the notice is printed', () => {
    const script = "import('@aws-sdk/client-sqs').then((m) => { new m.SQSClient({ region: 'us-east-1' }); })";
    const quiet = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env: process.env, encoding: 'utf8' });
    expect([quiet.status, quiet.stderr]).toEqual([0, '']);
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...env } = process.env;
    const loud = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' });
    expect(loud.stderr.includes('NodeVersionSupportWarning')).toBe(Number(process.versions.node.split('.')[0]) < 22);
  });

  it('the gateway never sets the switch itself', () => {
    const sources = ['app', 'gateway', 'aws', 'destinations', 'packet-source', 'net'].flatMap((d) => readdirSync(join(ROOT, d), { recursive: true, encoding: 'utf8' }).map((f) => join(ROOT, d, f)));
    const setting = sources.filter((f) => f.endsWith('.ts') && readFileSync(f, 'utf8').includes('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'));
    expect(setting).toEqual([]);
  });
});
