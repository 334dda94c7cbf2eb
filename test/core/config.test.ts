import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../support/memory-destination.js';
import { applyEnv, loadConfig, resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';

const base = () => ({ listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory' }] }] });

function problems(raw: unknown): { path: string; message: string }[] {
  try { resolveConfig(raw, '/tmp'); } catch (e) { if (e instanceof ConfigError) return [...e.problems]; throw e; }
  throw new Error('expected a ConfigError');
}

describe('config schema', () => {
  it('fills defaults and freezes the result', () => {
    const c = resolveConfig(base(), '/tmp');
    expect(c.replyWindowSeconds).toBe(60);
    expect(c.admin).toEqual({ enabled: true, host: '127.0.0.1', port: 9555, requestTimeoutMs: 10_000, maxConnections: 256 });
    const d = c.listeners[0]!.destinations[0]!;
    expect(d).toMatchObject({ name: 'memory', type: 'memory', inFlight: 4, batch: { maxPackets: 100, maxBytes: 1_048_576, lingerMs: 5 }, queue: { maxPackets: 10_000 }, options: { mode: 'record' } });
    expect(Object.isFrozen(c.listeners[0])).toBe(true);
  });

  it('lists every problem with its path', () => {
    const p = problems({
      replyWindowSeconds: 0, colour: 'blue',
      listeners: [
        { name: 'edge', port: 70000, destinations: [{ type: 'memory', mode: 'bogus' }, { type: 'carrier-pigeon' }], allow: ['10.0.0.0/33'] },
        { name: 'edge', port: 1, destinations: [{ type: 'memory', batch: { maxPackets: 0 }, extra: 1 }] },
      ],
    });
    // Top-level schema errors are reported first and stop deeper checks only where the shape is unknown.
    expect(p).toEqual(expect.arrayContaining([
      { path: '/colour', message: 'unknown key: remove it or check its spelling' },
      expect.objectContaining({ path: '/replyWindowSeconds' }),
      expect.objectContaining({ path: '/listeners/0/port' }),
    ]));
  });

  it('checks destinations against their kind and names the fix', () => {
    const p = problems({
      listeners: [
        { name: 'edge', port: 1, destinations: [{ type: 'memory', mode: 'bogus' }, { type: 'carrier-pigeon' }], allow: ['10.0.0.0/33'] },
        { name: 'edge', port: 2, destinations: [{ type: 'memory', batch: { maxPackets: 0 } }, { type: 'memory', extra: 1 }] },
      ],
    });
    const paths = p.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['/listeners/0/destinations/0/mode', '/listeners/0/destinations/1/type', '/listeners/0/allow/0', '/listeners/1/name', '/listeners/1/destinations/0/batch/maxPackets', '/listeners/1/destinations/1/extra']));
    expect(p.find((x) => x.path === '/listeners/0/destinations/1/type')!.message).toMatch(/unknown destination type "carrier-pigeon": use one of .*memory/);
    expect(p.find((x) => x.path === '/listeners/0/allow/0')!.message).toMatch(/invalid prefix length: use 0..32/);
    expect(p.find((x) => x.path === '/listeners/1/name')!.message).toMatch(/duplicate listener name/);
    expect(p.find((x) => x.path === '/listeners/1/destinations/1/extra')!.message).toMatch(/unknown key/);
  });

  // Every block of the schema refuses keys it does not know: a typo (alow) must not pass as "no rule".
  it.each([
    ['/egress/alow', { egress: { alow: ['10.0.0.0/8'] } }],
    ['/log/levle', { log: { levle: 'debug' } }],
    ['/admin/tokn', { admin: { tokn: 'x'.repeat(16) } }],
    ['/listeners/0/alow', { listeners: [{ name: 'edge', port: 0, alow: ['10.0.0.0/8'], destinations: [{ type: 'memory' }] }] }],
    ['/listeners/0/rateLimit/packetsPerSecnd', { listeners: [{ name: 'edge', port: 0, rateLimit: { packetsPerSecnd: 5 }, destinations: [{ type: 'memory' }] }] }],
    ['/listeners/0/destinations/0/batch/maxPacket', { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', batch: { maxPacket: 5 } }] }] }],
    ['/listeners/0/destinations/0/retry/maxAttempt', { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', retry: { maxAttempt: 5 } }] }] }],
    ['/listeners/0/destinations/0/queue/max', { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', queue: { max: 5 } }] }] }],
    ['/listeners/0/destinations/0/sample/evry', { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', sample: { evry: 5 } }] }] }],
    ['/listeners/0/destinations/0/buffer/disc', { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', buffer: { disc: {} } }] }] }],
    ['/listeners/0/destinations/0/buffer/disk/pth', { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', buffer: { disk: { path: 'b', pth: 'b' } } }] }] }],
  ])('refuses the unknown key %s', (path, extra) => {
    const p = problems({ ...base(), ...extra });
    expect(p).toContainEqual({ path, message: 'unknown key: remove it or check its spelling' });
  });

  it('fills every default of a minimal config, written out in full', () => {
    const c = resolveConfig(base(), '/tmp');
    expect(JSON.parse(JSON.stringify(c))).toEqual({
      listeners: [{
        name: 'edge', port: 0, host: '127.0.0.1', maxDatagramBytes: 65_507, receiveCoalesceMicros: 100,
        destinations: [{
          type: 'memory', name: 'memory', inFlight: 4, options: { mode: 'record', prefix: '' },
          batch: { maxPackets: 100, maxBytes: 1_048_576, lingerMs: 5 }, queue: { maxPackets: 10_000 },
          retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 5_000 },
        }],
      }],
      previousSecrets: [], replyWindowSeconds: 60, shutdownDeadlineMs: 10_000, transport: 'auto',
      log: { level: 'info' },
      admin: { enabled: true, host: '127.0.0.1', port: 9555, requestTimeoutMs: 10_000, maxConnections: 256 },
      egress: { allow: [], recentClientSeconds: 3600, maxRecentClients: 100_000, policy: 'address' },
      packetSources: [], baseDir: '/tmp',
    });
  });

  it('requires at least one listener', () => {
    expect(problems({ listeners: [] })).toEqual([expect.objectContaining({ path: '/listeners' })]);
    expect(problems({})).toEqual([{ path: '/listeners', message: 'is required' }]);
  });

  it('lets environment variables override the file', () => {
    const raw = applyEnv(base(), { UDPGW_PORT: '6000', UDPGW_SECRET: '12345', UDPGW_ADMIN_PORT: '9999', UDPGW_CONFIG__listeners__0__destinations__0__mode: 'echo', UDPGW_CONFIG__replyWindowSeconds: '5' });
    const c = resolveConfig({ ...(raw as object), secret: 'x'.repeat(16) }, '/tmp');
    expect(c.listeners[0]!.port).toBe(6000);
    expect(c.admin.port).toBe(9999);
    expect(c.replyWindowSeconds).toBe(5);
    expect(c.listeners[0]!.destinations[0]!.options).toEqual({ mode: 'echo', prefix: '' });
    // A numeric-looking secret stays a string.
    expect((raw as { secret: unknown }).secret).toBe('12345');
  });

  it('every built-in destination kind can be configured from a file (no option collides with a common key)', async () => {
    await import('../../app/builtin-kinds.js');
    const c = resolveConfig({ listeners: [{ name: 'e', port: 1, destinations: [
      { type: 'stepfunctions', stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m', executionType: 'STANDARD' },
      { type: 'udp', backends: ['127.0.0.1:9'] },
    ] }] }, '/tmp');
    expect(c.listeners[0]!.destinations.map((d) => [d.type, d.options.executionType ?? d.options.balance])).toEqual([['stepfunctions', 'STANDARD'], ['udp', 'hash']]);
    const { COMMON_DESTINATION_KEYS } = await import('../../gateway/config/schema.js');
    const { destinationKinds } = await import('../../gateway/extension/registry.js');
    for (const t of destinationKinds.types()) {
      const keys = Object.keys((destinationKinds.get(t)!.options as { properties?: object }).properties ?? {});
      expect(keys.filter((k) => COMMON_DESTINATION_KEYS.includes(k)), `${t} options`).toEqual([]);
    }
  });

  it('takes the whole config from UDPGW_CONFIG_JSON when no file is given', () => {
    const c = loadConfig({ env: { UDPGW_CONFIG_JSON: JSON.stringify(base()), UDPGW_PORT: '7001' } });
    expect([c.listeners[0]!.name, c.listeners[0]!.port]).toEqual(['edge', 7001]);
    expect(() => loadConfig({ env: { UDPGW_CONFIG_JSON: '{nope' } })).toThrow(/UDPGW_CONFIG_JSON is not valid JSON/);
  });

  it('reads YAML and JSON files and reports unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-cfg-'));
    writeFileSync(join(dir, 'a.yaml'), 'listeners:\n  - name: edge\n    port: 0\n    destinations:\n      - type: memory\n');
    writeFileSync(join(dir, 'b.json'), JSON.stringify(base()));
    writeFileSync(join(dir, 'bad.yaml'), 'listeners: [\n');
    expect(loadConfig({ file: join(dir, 'a.yaml'), env: {} }).baseDir).toBe(dir);
    expect(loadConfig({ file: join(dir, 'b.json'), env: {} }).listeners[0]!.name).toBe('edge');
    expect(() => loadConfig({ file: join(dir, 'bad.yaml'), env: {} })).toThrow(/not valid YAML/);
    expect(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} })).toThrow(/cannot read/);
  });
});

describe('built-in destination kinds', () => {
  it('each kind is one manifest in its own folder, whose lazy loader yields the factory', async () => {
    const { builtinDestinationKinds } = await import('../../app/builtin-kinds.js');
    const { readdirSync, existsSync } = await import('node:fs');
    const folders = readdirSync(new URL('../../destinations/', import.meta.url), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(new URL(`../../destinations/${d.name}/manifest.ts`, import.meta.url))).map((d) => d.name);
    expect(builtinDestinationKinds.map((k) => k.type).sort()).toEqual(folders.sort());
    for (const kind of builtinDestinationKinds) expect(typeof (await kind.load()), kind.type).toBe('function');
  });
});
