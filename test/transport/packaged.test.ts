/**
 * The package as users get it: `npm pack` (which builds the prebuilt addons, linux-x64 and
 * linux-arm64), then `npm install <tarball>` into an empty folder outside the repository. The
 * install compiles nothing (the prebuilt addon loads), and there the README's quick start runs:
 * `npx udp-gateway start` with no config uses the native transport from prebuilds/, `npx
 * udp-gateway send` gets the echo; a TypeScript handler in a folder of its own, importing
 * `udp-gateway/handler`, answers too (the built package's resolution, not the sources').
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, groupAlive, runCliAsync, startGateway, stopAll } from '../support/cli.js';
import { quickStartLines } from '../support/readme.js';

const NPX = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npx-cli.js');
const work = realpathSync(mkdtempSync(join(tmpdir(), 'udpgw-pack-')));
afterAll(() => { stopAll(); rmSync(work, { recursive: true, force: true }); });

/** Run a command to completion without blocking the test's event loop; fail with its output. */
function sh(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(t);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}): ${stderr}\n${stdout}`));
    });
  });
}

/** A copy of what the package is made from (so packing builds nothing inside the repository). */
function stage(): string {
  const dir = join(work, 'stage');
  mkdirSync(dir);
  // The source folders are the build's own list, so a new layer or plugin folder is staged too.
  const sources = (JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'binding.gyp', 'README.md', 'native', 'scripts', 'examples', 'docs', ...sources]) {
    cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** ELF e_machine of a file inside the tarball: 62 x86-64, 183 AArch64. */
function elfMachine(file: string): number {
  const b = readFileSync(file);
  return b.readUInt32BE(0) === 0x7f454c46 ? b.readUInt16LE(18) : -1;
}

describe('the packed package', () => {
  it('installs without compiling, uses the prebuilt addon, and runs the quick start', async () => {
    const src = stage();
    const packed = await sh('npm', ['pack', '--json', '--pack-destination', work], src, 300_000);
    const [{ filename, files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['prebuilds/linux-x64/udp_native.node', 'prebuilds/linux-arm64/udp_native.node', 'scripts/install-native.mjs', 'dist/app/cli.js', 'examples/echo-handler.mjs', 'binding.gyp']));
    expect(paths.some((p) => p.startsWith('build/'))).toBe(false);
    expect(elfMachine(join(src, 'prebuilds/linux-x64/udp_native.node'))).toBe(62);
    expect(elfMachine(join(src, 'prebuilds/linux-arm64/udp_native.node'))).toBe(183);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "name": "try-udp-gateway", "private": true }\n');
    const install = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, filename)], app, 600_000);
    const installed = join(app, 'node_modules', 'udp-gateway');
    expect(existsSync(join(installed, 'build'))).toBe(false); // nothing compiled
    expect(`${install.stdout}${install.stderr}`.split('\n').filter((l) => /gyp info spawn|EBADENGINE|not built/.test(l))).toEqual([]);
    // `npx udp-gateway` below runs the package's bin as installed: node_modules/.bin → dist/app/cli.js.
    expect(realpathSync(join(app, 'node_modules', '.bin', 'udp-gateway'))).toBe(join(installed, 'dist', 'app', 'cli.js'));

    // The README's quick start, in this folder.
    const [start, send] = quickStartLines();
    const gw = await startGateway(start!, { cwd: app, env: { ...process.env, UDPGW_PORT: '0', UDPGW_ADMIN_PORT: '0' }, entry: [NPX, 'udp-gateway'] });
    const transport = gw.logs.find((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('udp transport'))!;
    expect(transport).toMatchObject({ transport: 'native', addon: join(installed, 'prebuilds', `linux-${process.arch}`, 'udp_native.node') });
    expect(gw.banner).toContain(`-> echo: handler ${join(installed, 'examples', 'echo-handler.mjs')}`);
    expect(gw.banner).toContain(`-> archive: file ${join(app, 'data', 'packets.ndjson')}`);
    const r = await runCliAsync(send!.map((a) => a.replace(/:5555$/, `:${gw.udpPort}`)), { cwd: app, entry: [NPX, 'udp-gateway'] });
    expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(/^reply from 127\.0\.0\.1:\d+ \(2 bytes\): hi\n$/)]);
    // The status page's static files are in the package (copied into dist by the build) and served.
    expect(paths).toEqual(expect.arrayContaining(['dist/app/status-page/assets/index.html', 'dist/app/status-page/assets/page.js', 'dist/app/status-page/assets/view.js', 'dist/app/status-page/assets/page.css']));
    expect(gw.banner).toContain(`status page: ${gw.adminUrl}/`);
    const page = await fetch(`${gw.adminUrl}/`);
    expect([page.status, (await page.text()).includes('src="status/page.js"'), (await fetch(`${gw.adminUrl}/status/page.js`)).status]).toEqual([200, true, 200]);
    await gw.stop();
    expect(groupAlive(gw.proc)).toBe(false); // the gateway under npx stopped too, not only npx

    // A TypeScript handler in a folder with no node_modules, run by the installed gateway.
    const handlers = join(work, 'handlers');
    mkdirSync(handlers);
    writeFileSync(join(handlers, 'shout.ts'), `import { messageData, replies, replyTo, type UdpGatewayHandler } from 'udp-gateway/handler';
export const handler: UdpGatewayHandler = async (event) => replies(event.Messages.map((m) => replyTo(m, messageData(m).toString().toUpperCase())));
`);
    writeFileSync(join(handlers, 'gw.yaml'), 'admin: { enabled: false }\nlisteners:\n  - name: edge\n    port: 0\n    destinations: [{ type: handler, module: ./shout.ts, workers: 1 }]\n');
    const gw2 = await startGateway(['start', '--config', join(handlers, 'gw.yaml')], { cwd: app, entry: [NPX, 'udp-gateway'] });
    const r2 = await runCliAsync(['send', '--to', `127.0.0.1:${gw2.udpPort}`, 'quiet please'], { cwd: app, entry: [NPX, 'udp-gateway'] });
    expect(r2.stdout).toMatch(/: QUIET PLEASE\n$/);
    await gw2.stop();
    expect(groupAlive(gw2.proc)).toBe(false);
  }, 1_200_000);
});
