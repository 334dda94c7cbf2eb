/**
 * A handler file in any folder loads: .ts, .mts, .cts, .mjs, .cjs and .js, in folders without a
 * package.json, with "type": "module" and with "type": "commonjs", each importing (or requiring)
 * the handler kit as `udp-gateway/handler`, which nobody installed there. One real gateway process
 * (the CLI) with one handler destination per variant: one packet, one reply from each.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UdpClient } from '../support/udp-client.js';
import { startGateway, stopAll } from '../support/cli.js';

let clients: UdpClient[] = [];
afterEach(async () => { stopAll(); await Promise.all(clients.map((c) => c.close())); clients = []; });

const ESM_TS = (label: string) => `import { replies, replyTo, messageData, type UdpGatewayHandler } from 'udp-gateway/handler';
export const handler: UdpGatewayHandler = async (event) => replies(event.Messages.map((m) => replyTo(m, '${label}:' + messageData(m).toString())));
`;
const CJS_TS = (label: string) => `const { replies, replyTo, messageData } = require('udp-gateway/handler');
exports.handler = async (event: { Messages: { Tag: string; Data: string; Formatter: 'base64' }[] }) =>
  replies(event.Messages.map((m) => replyTo(m, '${label}:' + messageData(m).toString())));
`;
const ESM_JS = (label: string) => `import { replies, replyTo, messageData } from 'udp-gateway/handler';
export const handler = async (event) => replies(event.Messages.map((m) => replyTo(m, '${label}:' + messageData(m).toString())));
`;
const CJS_JS = (label: string) => `const { replies, replyTo, messageData } = require('udp-gateway/handler');
exports.handler = async (event) => replies(event.Messages.map((m) => replyTo(m, '${label}:' + messageData(m).toString())));
`;

const FOLDERS = { 'no-package-json': undefined, 'type-module': { type: 'module' }, 'type-commonjs': { type: 'commonjs' } } as const;

/** Each extension, written the way that folder's rules make it natural (a .js is ESM under "type": "module", CommonJS under "commonjs"). */
function variants(folder: keyof typeof FOLDERS): [string, (label: string) => string][] {
  return [
    ['ts', folder === 'type-commonjs' ? CJS_TS : ESM_TS], ['mts', ESM_TS], ['cts', CJS_TS],
    ['mjs', ESM_JS], ['cjs', CJS_JS], ['js', folder === 'type-commonjs' ? CJS_JS : ESM_JS],
  ];
}

describe('handler modules in any folder', () => {
  it('every extension, with and without package.json, resolves udp-gateway/handler and answers', async () => {
    const root = mkdtempSync(join(tmpdir(), 'udpgw-handlers-'));
    const destinations: string[] = [];
    const expected: string[] = [];
    for (const [folder, pkg] of Object.entries(FOLDERS) as [keyof typeof FOLDERS, object | undefined][]) {
      for (const [ext, source] of variants(folder)) {
        const dir = join(root, `${folder}-${ext}`); // one folder each: no .js next to a .ts of the same name
        mkdirSync(dir);
        if (pkg) writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
        const label = `${folder}.${ext}`;
        writeFileSync(join(dir, `handler.${ext}`), source(label));
        destinations.push(`      - { name: ${folder}-${ext}, type: handler, workers: 1, module: ${join(dir, `handler.${ext}`)} }`);
        expected.push(`${label}:ping`);
      }
    }
    // A .ts handler beside the config, without any folder of its own: the common case.
    writeFileSync(join(root, 'plain.ts'), ESM_TS('beside-config.ts'));
    destinations.push('      - { name: beside, type: handler, workers: 1, module: ./plain.ts }');
    expected.push('beside-config.ts:ping');
    writeFileSync(join(root, 'gw.yaml'), `secret: handler-anywhere-secret-0123
admin: { enabled: false }
listeners:
  - name: edge
    port: 0
    destinations:
${destinations.join('\n')}
`);
    // 19 worker threads, each compiling TypeScript on two shared cores: allow for a slow start.
    const gw = await startGateway(['start', '--config', join(root, 'gw.yaml')], { cwd: root, timeoutMs: 150_000 });
    const c = await UdpClient.open(); clients.push(c);
    await c.send('ping', gw.udpPort);
    const got = await c.waitFor(expected.length, 20_000);
    expect(got.map((r) => r.data.toString()).sort()).toEqual(expected.sort());
  }, 180_000);
});
