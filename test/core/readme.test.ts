/** The README's configuration examples are valid configurations (keeps the README true). */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import '../../app/builtin-kinds.js';
import { resolveConfig } from '../../app/config/load.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README', () => {
  it('has configuration examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  it.each(blocks.map((b, i) => [i, b] as const))('YAML example %i is a valid configuration', (_i, text) => {
    const config = resolveConfig(parse(text), '/tmp');
    expect(config.listeners.length).toBeGreaterThan(0);
  });
});
