/** The README's configuration examples are valid configurations (keeps the README true). */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import '../../app/builtin-kinds.js';
import { resolveConfig } from '../../app/config/load.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README', () => {
  it('has configuration examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));
  it.each(blocks.map((b, i) => [i, b] as const))('YAML example %i is a valid configuration', (_i, text) => {
    // The handler modules an example names exist (validate and start check that they do).
    const dir = mkdtempSync(resolve(tmpdir(), 'udpgw-readme-'));
    for (const m of text.matchAll(/module: (\S+)/g)) {
      mkdirSync(dirname(resolve(dir, m[1]!)), { recursive: true });
      writeFileSync(resolve(dir, m[1]!), 'export const handler = async () => ({ Replies: [] });\n');
    }
    const config = resolveConfig(parse(text), dir);
    expect(config.listeners.length).toBeGreaterThan(0);
  });
});
