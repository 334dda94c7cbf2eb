/**
 * `udp-gateway send` loads nothing it does not need: the CLI entry, its usage module and the send
 * command, no config schema, plugin, logger, HTTP server or AWS SDK (which made it take 1.4-2 s).
 * Checked on the module graph of a real process, not on a timing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI_ARGS, ROOT, runCliAsync, stopAll } from '../support/cli.js';
import { UdpClient } from '../support/udp-client.js';

let clients: UdpClient[] = [];
afterEach(async () => { stopAll(); await Promise.all(clients.map((c) => c.close())); clients = []; });

const TSX = ['tsx', 'esbuild', 'get-tsconfig', 'resolve-pkg-maps'];

/** The project's own files and the packages a command line resolves. */
async function modulesOf(args: string[]): Promise<{ own: string[]; packages: string[]; status: number | null; stdout: string }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'udpgw-trace-')), 'imports.txt');
  const r = await runCliAsync(args, {
    entry: ['--import', pathToFileURL(join(ROOT, 'test/support/trace-imports.mjs')).href, ...CLI_ARGS],
    env: { ...process.env, UDPGW_TRACE_IMPORTS: trace },
  });
  const urls = [...new Set(readFileSync(trace, 'utf8').trim().split('\n'))].filter((u) => u.startsWith('file:'));
  const root = pathToFileURL(ROOT).href + '/';
  return {
    own: urls.filter((u) => u.startsWith(root) && !u.includes('/node_modules/')).map((u) => u.slice(root.length).replace(/\?.*$/, '')).sort(),
    packages: [...new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => !!p))].sort(),
    status: r.status, stdout: r.stdout,
  };
}

describe('send starts fast', () => {
  it('loads only the CLI entry, its usage text and the send command', async () => {
    const echo = await UdpClient.open(); clients.push(echo);
    echo.socket.on('message', (m, r) => echo.socket.send(m, r.port, r.address));
    const m = await modulesOf(['send', '--to', `127.0.0.1:${echo.port}`, '--wait', '300', 'hi']);
    expect(m.status).toBe(0);
    expect(m.stdout).toContain('(2 bytes): hi');
    expect(m.own).toEqual(['app/cli.ts', 'app/cli/send.ts', 'app/cli/usage.ts', 'gateway/package.ts']);
    // tsx and what it uses compile the TypeScript sources here; the built package runs without them.
    expect(m.packages.filter((p) => !TSX.includes(p) && !p.startsWith('@esbuild/'))).toEqual([]);
  });

  it('start, by contrast, loads the plugins and their dependencies (the check above can fail)', async () => {
    const m = await modulesOf(['validate', join(ROOT, 'no-such-file.yaml')]);
    expect(m.own).toContain('app/builtin-kinds.ts');
    expect(m.packages).toContain('@sinclair/typebox');
  });
});
