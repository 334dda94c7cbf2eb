#!/usr/bin/env node
// Builds the native addon for each Linux target into prebuilds/<platform>-<arch>/udp_native.node
// (the layout of prebuildify / node-gyp-build), so that an installed package needs no compiler:
// the package's install step and net/native-addon.ts find them there. Runs at `npm pack`
// (prepack). Each target is built in a temporary copy of binding.gyp and native/, so the
// repository's build/ (which the tests load) is never touched. A target other than this machine's
// needs a cross compiler (gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu); without one it is skipped,
// and the summary says so. Exit code 1 only when this machine's own target fails.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, copyFileSync, openSync, readSync, closeSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = { x64: { cross: 'x86_64-linux-gnu', elf: 62 }, arm64: { cross: 'aarch64-linux-gnu', elf: 183 } };
const only = process.argv.slice(2);
// node-gyp: npm's own (npm sets npm_config_node_gyp for scripts), else the one bundled with npm.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const nodeGyp = [process.execPath, process.env.npm_config_node_gyp ?? bundled];

/** ELF e_machine of a file: 62 x86-64, 183 AArch64. */
function elfMachine(file) {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(20);
  readSync(fd, b, 0, 20, 0);
  closeSync(fd);
  return b.readUInt32BE(0) === 0x7f454c46 ? b.readUInt16LE(18) : -1;
}

function build(arch) {
  const t = TARGETS[arch];
  const env = { ...process.env };
  if (arch !== process.arch) {
    const cc = `${t.cross}-gcc`;
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) return { arch, skipped: `no cross compiler (${cc}; apt-get install gcc-${t.cross.replace(/_/g, '-')})` };
    Object.assign(env, { CC: cc, CXX: `${t.cross}-g++`, LINK: cc, AR: `${t.cross}-ar` });
  }
  const work = mkdtempSync(join(tmpdir(), `udpgw-addon-${arch}-`));
  try {
    cpSync(join(root, 'binding.gyp'), join(work, 'binding.gyp'));
    cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
    const [cmd, ...pre] = nodeGyp;
    const r = spawnSync(cmd, [...pre, 'rebuild', `--arch=${arch}`], { cwd: work, env, encoding: 'utf8' });
    const built = join(work, 'build', 'Release', 'udp_native.node');
    if (r.status !== 0 || !existsSync(built)) return { arch, failed: (r.stderr || r.error?.message || '').trim().split('\n').slice(-5).join('\n') };
    if (elfMachine(built) !== t.elf) return { arch, failed: `built a binary for ELF machine ${elfMachine(built)}, not ${t.elf}` };
    const out = join(root, 'prebuilds', `linux-${arch}`);
    mkdirSync(out, { recursive: true });
    copyFileSync(built, join(out, 'udp_native.node'));
    return { arch, file: join('prebuilds', `linux-${arch}`, 'udp_native.node') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.platform !== 'linux') {
  console.log('udp-gateway: prebuilt addons are built on Linux only; none built');
  process.exit(0);
}
rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
const results = Object.keys(TARGETS).filter((a) => only.length === 0 || only.includes(a)).map(build);
for (const r of results) console.log(`udp-gateway addon linux-${r.arch}: ${r.file ?? (r.skipped ? `skipped, ${r.skipped}` : `FAILED\n${r.failed}`)}`);
process.exit(results.some((r) => r.arch === process.arch && !r.file) ? 1 : 0);
