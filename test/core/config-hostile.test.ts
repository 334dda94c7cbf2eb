/**
 * Hostile or broken configurations end in one ConfigError, quickly (a hang fails by the test's own
 * timeout), with a short message: never a hang, a RangeError, a TypeError or a polluted prototype.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../support/memory-destination.js';
import { applyEnv, loadConfig, resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';

const base = () => ({ listeners: [{ name: 'e', port: 1, destinations: [{ type: 'memory' }] }] });
const dir = mkdtempSync(join(tmpdir(), 'udpgw-cfg-'));
const file = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };

/** The one error, its problems' text, and that it is short. */
function configError(f: () => unknown): string {
  let caught: unknown;
  try { f(); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(ConfigError);
  const text = (caught as ConfigError).problems.map((p) => `${p.path} ${p.message}`).join('\n');
  expect((caught as Error).message.length).toBeLessThan(2_000);
  return text;
}

describe('hostile configurations', () => {
  it('a mapping with a large index key where a list is expected is not turned into a list', () => {
    expect(configError(() => resolveConfig({ ...base(), egress: { allow: { 65535: '10.0.0.0/8' } } }, '/tmp'))).toMatch(/\/egress\/allow Expected a list, got a mapping/);
    expect(configError(() => resolveConfig({ ...base(), egress: { allow: { length: 100_000_000 } } }, '/tmp'))).toMatch(/\/egress\/allow Expected a list/);
    expect(configError(() => resolveConfig({ listeners: { 70000: base().listeners[0] } }, '/tmp'))).toMatch(/\/listeners Expected a list/);
  });

  it('an environment override with a list index far past the end is refused, naming the variable', () => {
    const text = configError(() => resolveConfig(applyEnv(base(), { UDPGW_CONFIG__listeners__99999999__port: '1' }), '/tmp'));
    expect(text).toMatch(/UDPGW_CONFIG__listeners__99999999__port: index 99999999 is past the end of the list at \/listeners \(1 items\): use 1/);
    // One past the end adds an item (then validated like any other).
    expect(configError(() => resolveConfig(applyEnv(base(), { UDPGW_CONFIG__listeners__1__port: '2' }), '/tmp'))).toMatch(/\/listeners\/1\/name is required/);
  });

  it('constructor, __proto__ and prototype keys are refused, from the environment and from a file', () => {
    expect(configError(() => applyEnv(base(), { UDPGW_CONFIG__listeners__0__destinations__constructor: '1' }))).toMatch(/the key "constructor" is not allowed/);
    expect(configError(() => applyEnv(base(), { UDPGW_CONFIG__constructor__prototype__polluted: '1' }))).toMatch(/"constructor"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const f = file('proto.json', JSON.stringify({ ...base(), __proto__: { polluted: 1 } }).replace('"listeners"', '"__proto__":{"polluted":1},"listeners"'));
    expect(configError(() => loadConfig({ file: f, env: {} }))).toMatch(/\/__proto__ the key "__proto__" is not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('deep nesting and a YAML alias inside its own anchor are refused', () => {
    let deep: Record<string, unknown> = {}; const root = deep;
    for (let i = 0; i < 5_000; i++) { deep.a = {}; deep = deep.a as Record<string, unknown>; }
    expect(configError(() => resolveConfig({ ...base(), x: root }, '/tmp'))).toMatch(/nested deeper than 32 levels/);
    expect(configError(() => loadConfig({ file: file('deep.json', `{"a":${'['.repeat(5_000)}${']'.repeat(5_000)}}`), env: {} }))).toMatch(/nested deeper/);
    expect(configError(() => loadConfig({ file: file('deep.yaml', `a: ${'['.repeat(3_000)}${']'.repeat(3_000)}\n`), env: {} }))).toMatch(/./);
    expect(configError(() => loadConfig({ file: file('cyclic.yaml', 'a: &x [*x]\nlisteners: []\n'), env: {} }))).toMatch(/\/a\/0 refers to itself/);
    expect(configError(() => loadConfig({ file: file('cyclic2.yaml', 'a: &x { b: *x }\n'), env: { UDPGW_PORT: '5' } }))).toMatch(/refers to itself/);
  });

  it('a file that is a bare scalar or a list, with or without overrides, is one error', () => {
    for (const [text, env] of [['hello\n', { UDPGW_PORT: '5' }], ['hello\n', {}], ['42\n', {}], ['- a\n', { UDPGW_CONFIG__x: '1' }], ['', { UDPGW_PORT: '5' }]] as const) {
      expect(configError(() => loadConfig({ file: file('scalar.yaml', text), env }))).toMatch(/must be a mapping|listeners/);
    }
  });

  it('sparse and very long lists, and many values, are refused', () => {
    expect(configError(() => resolveConfig({ ...base(), egress: { allow: Object.assign([], { 5_000_000: 'x' }) } }, '/tmp'))).toMatch(/at most 10000/);
    const holes: unknown[] = ['10.0.0.0/8']; holes[2] = '10.0.0.0/8';
    expect(configError(() => resolveConfig({ ...base(), egress: { allow: holes } }, '/tmp'))).toMatch(/\/egress\/allow\/1 a hole in a list/);
    expect(configError(() => resolveConfig({ ...base(), x: Array.from({ length: 200 }, () => Array.from({ length: 1_000 }, () => 1)) }, '/tmp'))).toMatch(/more than 100000 values/);
  });

  it('a billion-laughs YAML file is refused as unreadable', () => {
    const levels = ['a: &a [x,x,x,x,x,x,x,x,x]'];
    for (let i = 1; i < 8; i++) levels.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(9).fill(`*${'abcdefgh'[i - 1]}`).join(',')}]`);
    expect(configError(() => loadConfig({ file: file('bomb.yaml', levels.join('\n') + '\n'), env: {} }))).toMatch(/not valid YAML|more than/);
  });
});
