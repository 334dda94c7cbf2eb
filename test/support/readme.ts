/** What the README says, read by the tests that run it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const readme = (): string => readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The README's quick start section. */
export function quickStartSection(): string {
  const text = readme();
  return text.slice(text.indexOf('## Quick start'), text.indexOf('## Configuration'));
}

/** The `npx udp-gateway …` lines of the README's quick start, in order, as argument lists. */
export function quickStartLines(): string[][] {
  return [...quickStartSection().matchAll(/^npx udp-gateway ([^#\n]+?)\s*(?:#.*)?$/gm)].map((m) => m[1]!.split(/\s+/));
}
