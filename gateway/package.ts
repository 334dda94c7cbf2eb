/**
 * The gateway's own package folder (where its package.json is), found from this module's URL, so
 * files shipped with the package (examples/, the addon's prebuilds) are found the same way from the
 * sources (app/), the build (dist/app/) and an installed copy (node_modules/udp-gateway/dist/app/),
 * whatever the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'udp-gateway') return (cached = dir);
    if (dirname(dir) === dir) throw new Error(`udp-gateway: cannot find the package folder above ${fileURLToPath(import.meta.url)}`);
  }
}

/** The package's version (package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
