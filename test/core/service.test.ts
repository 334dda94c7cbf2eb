/**
 * Running as a service: `udp-gateway service unit | install` (app/service/unit.ts), the unit
 * checked by systemd's own `systemd-analyze verify` where systemd is installed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCliAsync, stopAll } from '../support/cli.js';
import { systemdUnit, nofileFor } from '../../app/service/unit.js';
import { loadConfig } from '../../app/config/load.js';

afterEach(() => stopAll());

const tmp = () => mkdtempSync(join(tmpdir(), 'udpgw-service-'));
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const cli = join(ROOT, 'dist/app/cli.js');

/** `systemd-analyze verify` exits 0 on unknown keys and bad values too (it only warns): anything it prints is a finding. */
function verify(unit: string): { status: number | null; output: string } {
  const dir = tmp();
  const file = join(dir, 'udp-gateway.service');
  writeFileSync(file, unit);
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

function config(dir: string, yaml: string) {
  const file = join(dir, 'gw.yaml');
  writeFileSync(file, yaml);
  return { file, config: loadConfig({ file, env: {} }) };
}

describe('service unit', () => {
  it('is Type=notify, reloads with SIGHUP, restarts on failure, hardened, with no capability for high ports', async () => {
    const dir = tmp();
    const { file } = config(dir, 'shutdownDeadlineMs: 20000\nlisteners:\n  - { name: edge, port: 5555, destinations: [{ type: file, path: /var/lib/udp-gateway/archive/p.ndjson }] }\n');
    const r = await runCliAsync(['service', 'unit', '--config', file]);
    expect(r.status).toBe(0);
    const unit = r.stdout;
    for (const line of ['Type=notify', 'NotifyAccess=all', 'ExecReload=/bin/kill -HUP $MAINPID', 'Restart=on-failure', 'DynamicUser=yes', 'ProtectSystem=strict',
      'ProtectHome=yes', 'PrivateTmp=yes', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=', 'StateDirectory=udp-gateway', 'WantedBy=multi-user.target',
      'TimeoutStopSec=25', 'ReadWritePaths=-/var/lib/udp-gateway/archive', `ExecStart=${process.execPath} ${cli} start --config ${file}`]) {
      expect(unit.split('\n')).toContain(line);
    }
    expect(unit).not.toMatch(/AmbientCapabilities/);
    expect(unit).not.toMatch(/^User=/m);
  });

  it('grants CAP_NET_BIND_SERVICE only for a port below 1024, runs as a given user, sizes LimitNOFILE from udp sessions', () => {
    const dir = tmp();
    const { config: low } = config(dir, 'listeners:\n  - { name: dns, port: 53, destinations: [{ type: udp, backends: ["127.0.0.1:5353"], maxSessions: 200000 }] }\n');
    const unit = systemdUnit({ node: '/usr/bin/node', cli: '/opt/gw/dist/app/cli.js', configFile: '/etc/udp-gateway/gw.yaml', config: low, user: 'udpgw', workers: 2 });
    const lines = unit.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'User=udpgw', 'Group=udpgw',
      'ExecStart=/usr/bin/node /opt/gw/dist/app/cli.js start --config /etc/udp-gateway/gw.yaml --workers 2', `LimitNOFILE=${2 * 200_000 + 4096}`]));
    expect(lines).not.toContain('DynamicUser=yes');
    expect(nofileFor(undefined)).toBe(1_048_576);
    expect(nofileFor(loadConfig({ raw: { listeners: [{ name: 'e', port: 1, destinations: [{ type: 'file', path: 'x' }] }] }, env: {} }))).toBe(65_536);
  });

  it.runIf(hasAnalyze)(hasAnalyze ? 'passes systemd-analyze verify without a finding (and the check finds a misspelt key)'
    : 'systemd-analyze verify: skipped, systemd-analyze is not installed here (Debian: apt-get install systemd)', async () => {
    const dir = tmp();
    const { file } = config(dir, 'listeners:\n  - { name: dns, port: 53, destinations: [{ type: udp, backends: ["127.0.0.1:5353"] }] }\n');
    // ExecStart must name files that exist: the real node, and the built CLI (or this test file as a stand-in).
    const unit = (await runCliAsync(['service', 'unit', '--config', file])).stdout.replace(cli, existsSync(cli) ? cli : join(ROOT, 'package.json'));
    expect(verify(unit)).toEqual({ status: 0, output: '' });
    expect(verify(systemdUnit({ node: process.execPath, cli: join(ROOT, 'package.json') }))).toEqual({ status: 0, output: '' });
    expect(verify(unit.replace('ProtectSystem=strict', 'ProtectSytem=strict')).output).toMatch(/Unknown key 'ProtectSytem'/);
  });

  it('install writes the unit to --path and says what to run next; --dry-run only prints', async () => {
    const dir = tmp();
    const path = join(dir, 'etc', 'udp-gateway.service');
    mkdirSync(join(dir, 'etc'));
    const dry = await runCliAsync(['service', 'install', '--dry-run', '--path', path]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/^# udp-gateway\.service/);
    expect(existsSync(path)).toBe(false);
    const r = await runCliAsync(['service', 'install', '--path', path, '--user', 'udpgw']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`wrote ${path}\nnext:\n  systemctl daemon-reload\n  systemctl enable --now udp-gateway\n  systemctl status udp-gateway     # journalctl -u udp-gateway -f for the logs\n  systemctl reload udp-gateway     # after changing the config: SIGHUP, applied without a restart\n`);
    expect(readFileSync(path, 'utf8')).toContain('User=udpgw');
    const denied = await runCliAsync(['service', 'install', '--path', join(dir, 'missing', 'x.service')]);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/cannot write .*x\.service: ENOENT/);
  });

  it('checks the config like validate, and refuses usage errors', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.yaml'), 'listeners:\n  - { name: e, port: 5555, colour: red, destinations: [{ type: file, path: x }] }\n');
    const bad = await runCliAsync(['service', 'unit', '--config', join(dir, 'bad.yaml')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('/listeners/0/colour: unknown key');
    const usage = await runCliAsync(['service', 'start']);
    expect([usage.status, usage.stderr.trim()]).toEqual([2, 'udp-gateway service: unknown service action "start": use unit or install (see udp-gateway service --help)']);
  });
});
