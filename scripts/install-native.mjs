#!/usr/bin/env node
// The package's install step. A prebuilt addon for this platform (prebuilds/<platform>-<arch>/,
// shipped inside the package: nothing is downloaded) is used when it loads here; otherwise the
// addon is compiled with node-gyp (python3, make, a C compiler); without them the gateway runs on
// node:dgram. Never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'udp_native.node');
if (existsSync(prebuilt)) {
  try {
    createRequire(import.meta.url)(prebuilt);
    console.log(`udp-gateway: using the prebuilt native UDP addon (${process.platform}-${process.arch}); nothing to compile`);
    process.exit(0);
  } catch (err) {
    console.log(`udp-gateway: the prebuilt addon does not load here (${String(err.message).split('\n')[0]}); compiling it`);
  }
}
if (process.platform !== 'linux') process.exit(0); // the addon is Linux only: node:dgram elsewhere
const gyp = process.env.npm_config_node_gyp ? [process.execPath, process.env.npm_config_node_gyp] : ['node-gyp'];
const r = spawnSync(gyp[0], [...gyp.slice(1), 'rebuild'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) console.log('udp-gateway: native UDP addon not built; the dgram transport will be used');
