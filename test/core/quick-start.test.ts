/**
 * The README's quick start, run from a directory outside the repository with no config: the
 * built-in default finds the package's own echo handler, archives under the working directory and
 * says where, and the README's try-it lines (`udp-gateway send` first) get the reply.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ARGS, ROOT, runCliAsync, startGateway, stopAll } from '../support/cli.js';
import { quickStartLines, quickStartSection } from '../support/readme.js';

afterEach(() => stopAll());

describe('quick start from any directory', () => {
  it('the README names start and send (send first among the try-it lines)', () => {
    const lines = quickStartLines();
    expect(lines.slice(0, 2).map((l) => l[0])).toEqual(['start', 'send']);
    const quick = quickStartSection();
    expect(quick.indexOf('udp-gateway send')).toBeLessThan(quick.indexOf(' nc '));
  });

  it('start with no config in an empty folder outside the repo, then send: the echo answers and the archive is where the banner says', async () => {
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), 'udpgw-quick-')));
    const [start, send] = quickStartLines();
    // The README's ports, made free ones so the test never meets another process on 5555/9555.
    const gw = await startGateway(start!, { cwd, env: { ...process.env, UDPGW_PORT: '0', UDPGW_ADMIN_PORT: '0' } });
    expect(gw.banner).toContain(`-> echo: handler ${join(ROOT, 'examples', 'echo-handler.mjs')}`);
    const archive = join(cwd, 'data', 'packets.ndjson');
    expect(gw.banner).toContain(`-> archive: file ${archive}`);
    expect(gw.banner.indexOf('udp-gateway send --to')).toBeLessThan(gw.banner.indexOf('nc -u'));
    const args = send!.map((a) => a.replace(/:5555$/, `:${gw.udpPort}`));
    const r = await runCliAsync(args, { cwd, entry: CLI_ARGS });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^reply from 127\\.0\\.0\\.1:${gw.udpPort} \\(\\d+ bytes\\): ${args[args.length - 1]}\\n$`));
    await gw.stop();
    expect(existsSync(archive)).toBe(true);
    expect(readFileSync(archive, 'utf8')).toContain(Buffer.from(args[args.length - 1]!).toString('base64'));
  });
});
