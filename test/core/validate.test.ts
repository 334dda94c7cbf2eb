/**
 * `validate` and `start` run the same checks (loadConfig) and list every problem in one run:
 * schema and beyond it (backends, handler files, listeners on one address, CIDRs, names), each
 * with the fix. Real processes, as a user runs them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAsync, stopAll } from '../support/cli.js';

afterEach(() => stopAll());
const tmp = () => mkdtempSync(join(tmpdir(), 'udpgw-validate-'));

const BAD = `admin: { enabled: false }
listeners:
  - name: edge
    port: 47001
    formatter: base65
    allow: [10.0.0.0/33]
    destinations:
      - type: udp
        backends: ["127.0.0.1:70001", "localhost:abc", "nohostport"]
      - type: handler
        module: ./missing-handler.mjs
      - type: file
        name: udp
        path: archive.ndjson
  - name: edge
    port: 99999
    destinations: [{ type: file, path: y.ndjson }]
  - name: other
    port: 47001
    destinations: [{ type: file, path: z.ndjson }]
`;

/** Every problem of BAD, by path, each with words of its fix. */
const EXPECTED: [string, RegExp][] = [
  ['/listeners/0/formatter', /must be one of "base64", "hex", "utf8", "ascii", "coap", got "base65"/],
  ['/listeners/0/allow/0', /"10\.0\.0\.0\/33" has an invalid prefix length: use 0\.\.32/],
  ['/listeners/0/destinations/0/backends/0', /"127\.0\.0\.1:70001" has port 70001, outside 1-65535: fix the port/],
  ['/listeners/0/destinations/0/backends/1', /"localhost:abc" has port "abc", not a number: write host:port/],
  ['/listeners/0/destinations/0/backends/2', /"nohostport" has no port: write host:port/],
  ['/listeners/0/destinations/1/module', /handler module .*missing-handler\.mjs does not exist or is not a file: fix the path/],
  ['/listeners/0/destinations/2/name', /duplicate destination name "udp" on this listener: give each a unique name/],
  ['/listeners/1/name', /duplicate listener name "edge": give each listener a unique name/],
  ['/listeners/1/port', /must be a whole number from 0 to 65535, got 99999 .*: set a value in that range/],
  ['/listeners/2/port', /127\.0\.0\.1:47001 is already bound by \/listeners\/0 .*: give one of them another port or host/],
];

describe('validate = start', () => {
  it('both list every problem of a file in one run, in document order, with the fix; start binds nothing', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.yaml'), BAD);
    const [v, s] = await Promise.all([runCliAsync(['validate', join(dir, 'bad.yaml')]), runCliAsync(['start', '--config', join(dir, 'bad.yaml')])]);
    expect([v.status, s.status]).toEqual([1, 1]);
    expect(s.stderr).toBe(v.stderr);
    const lines = v.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`UGW_ERR_CONFIG_INVALID: invalid configuration (${EXPECTED.length} problems):`);
    expect(lines.slice(1).map((l) => l.trim().split(': ')[0])).toEqual(EXPECTED.map(([p]) => p));
    EXPECTED.forEach(([path, message], i) => expect(lines[i + 1]).toMatch(message));
    expect(s.stdout).not.toContain('"listening"');
  });

  it('a YAML error names the line to change: an over-indented key is on line 4, not line 3', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'indent.yaml'), 'listeners:\n  - name: edge\n    port: 5555\n     destinations:\n      - type: file\n');
    const r = await runCliAsync(['validate', join(dir, 'indent.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^UGW_ERR_CONFIG_READ: .*indent\.yaml line 4, column 6: not valid YAML: this line is indented more than line 3 \("port: 5555"\).*: indent it like line 3 \(4 spaces\)/);
    expect(r.stderr).toContain('   4 |      destinations:');
  });

  it('a missing file is "cannot read", not "invalid configuration"', async () => {
    const r = await runCliAsync(['start', '--config', join(tmp(), 'nope.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^UGW_ERR_CONFIG_READ: cannot read .*nope\.yaml: no such file; check the path/);
    expect(r.stderr).not.toContain('invalid configuration');
  });

  it('a JSON syntax error gives its line and column', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'gw.json'), '{\n  "listeners": [\n    { "name": "e", "port": 5 "destinations": [] }\n  ]\n}\n');
    const r = await runCliAsync(['validate', join(dir, 'gw.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^UGW_ERR_CONFIG_READ: .*gw\.json line 3, column \d+: not valid JSON/);
  });

  it('a valid file validates, and says what it holds', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'h.mjs'), 'export const handler = async () => ({ Replies: [] });\n');
    writeFileSync(join(dir, 'ok.yaml'), 'listeners:\n  - name: a\n    port: 47002\n    destinations:\n      - { type: handler, module: ./h.mjs }\n      - { type: udp, backends: ["127.0.0.1:8125", "[::1]:8125"] }\n  - name: b\n    port: 47002\n    host: ::1\n    destinations: [{ type: file, path: x.ndjson }]\n');
    const r = await runCliAsync(['validate', join(dir, 'ok.yaml')]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/ok\.yaml: valid \(2 listeners, 3 destinations\)/);
  });
});
