/**
 * `udp-gateway service unit | install`: the systemd unit that runs this gateway as a service
 * (app/service/unit.ts), printed, or written to /etc/systemd/system/udp-gateway.service with the
 * systemctl commands to run next. A given config is checked first, with the checks start runs.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intOption, parseOptions, UsageError } from './usage.js';
import { loadConfig } from '../config/load.js';
import { packageRoot, packageVersion } from '../../gateway/package.js';
import { systemdUnit } from '../service/unit.js';

export const UNIT_PATH = '/etc/systemd/system/udp-gateway.service';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ args, allowPositionals: true, options: {
    config: { type: 'string', short: 'c' }, user: { type: 'string' }, workers: { type: 'string' },
    path: { type: 'string' }, 'dry-run': { type: 'boolean', default: false },
  } });
  const [action, ...extra] = positionals;
  if (action !== 'unit' && action !== 'install') throw new UsageError(action === undefined ? 'say what to do: service unit (print the systemd unit) or service install (write it)' : `unknown service action "${action}": use unit or install`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (action === 'unit' && (values.path || values['dry-run'])) throw new UsageError('--path and --dry-run are options of service install');
  if (values.user !== undefined && !/^[a-z_][a-z0-9_-]*$/i.test(values.user)) throw new UsageError(`--user "${values.user}" is not a user name`);
  const configFile = values.config ? resolve(values.config) : undefined;
  const config = configFile ? loadConfig({ file: configFile }) : undefined; // the same checks as start
  const cli = join(packageRoot(), 'dist/app/cli.js');
  if (!existsSync(cli)) process.stderr.write(`note: ${cli} does not exist yet: build the package (npm run build) before starting the service\n`);
  const unit = systemdUnit({
    node: process.execPath, cli, version: packageVersion(),
    ...(configFile ? { configFile } : {}), ...(config ? { config } : {}), ...(values.user ? { user: values.user } : {}),
    ...(values.workers !== undefined ? { workers: intOption('workers', values.workers, 1, 1024)! } : {}),
  });
  if (action === 'unit' || values['dry-run']) { process.stdout.write(unit); return 0; }
  const path = values.path ?? UNIT_PATH;
  try {
    writeFileSync(path, unit, { mode: 0o644 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`udp-gateway service install: cannot write ${path}: ${e.code === 'EACCES' ? 'permission denied (run it as root, e.g. with sudo)' : e.message}\n`);
    return 1;
  }
  process.stdout.write(`wrote ${path}\nnext:\n  systemctl daemon-reload\n  systemctl enable --now udp-gateway\n  systemctl status udp-gateway     # journalctl -u udp-gateway -f for the logs\n  systemctl reload udp-gateway     # after changing the config: SIGHUP, applied without a restart\n`);
  return 0;
}
