/** `udp-gateway start`: load the config (the same checks as validate), run it until a signal. */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { intOption, parseOptions } from './usage.js';
import { loadConfig, readDotEnv, type ResolvedConfig } from '../config/load.js';
import { PRESETS } from '../presets/udp-gate.js';
import { UsageError } from './usage.js';
import { runGateway, handleSignals, banner } from '../run.js';
import { createLogger } from '../../gateway/logger.js';
import { startClusterPrimary, runClusterWorker } from '../cluster.js';
import { systemdNotifier } from '../service/notify.js';

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions({ args, options: {
    config: { type: 'string', short: 'c' }, preset: { type: 'string' }, port: { type: 'string' }, 'admin-port': { type: 'string' }, workers: { type: 'string' },
  } });
  if (values.preset && values.config) throw new UsageError('--preset and --config exclude each other: give one');
  const presetOf = values.preset ? PRESETS[values.preset] : undefined;
  if (values.preset && !presetOf) throw new UsageError(`unknown --preset "${values.preset}": use one of ${Object.keys(PRESETS).join(', ')}`);
  const preset = presetOf?.({ ...readDotEnv(), ...process.env });
  const port = intOption('port', values.port, 0, 65535);
  const adminPort = intOption('admin-port', values['admin-port'], 0, 65535);
  const workers = intOption('workers', values.workers, 1, 1024) ?? preset?.workers ?? 1;
  const env = { ...process.env };
  if (port !== undefined) env.UDPGW_PORT = String(port);
  if (adminPort !== undefined) env.UDPGW_ADMIN_PORT = String(adminPort);
  // A reload (SIGHUP, POST /v1/reload) reads the config again from the same file, preset and environment.
  const load = () => loadConfig({ ...(values.config ? { file: values.config } : {}), ...(preset ? { raw: preset.config } : {}), env });
  const config = load();
  const logger = createLogger(config.log.level);
  if (workers > 1 && cluster.isPrimary) return startPrimary(workers, logger, config);
  return serve(config, logger, undefined, load);
}

/** Run a resolved config until a signal: the gateway, its admin API, the banner on stderr. */
export async function serve(config: ResolvedConfig, logger: Logger, preface?: string, load?: () => ResolvedConfig): Promise<number> {
  const reloadConfig = load ? { reloadConfig: load } : {};
  if (cluster.isWorker) {
    await runClusterWorker(config, { logger, preference: config.transport, ...reloadConfig });
    return new Promise<number>(() => {});
  }
  const notify = systemdNotifier({ onError: (err) => logger.warn({ err }, 'systemd-notify could not run: readiness not reported') });
  const running = await runGateway(config, { logger, ...reloadConfig, reloadHooks: { reloading: () => notify.reloading(), reloaded: () => notify.ready() } });
  handleSignals(running, logger, process.exit, () => notify.stopping());
  process.stderr.write((preface ?? '') + banner(running) + '\n');
  notify.ready(`serving ${running.gateway.listeners.size} listener(s)`);
  return new Promise<number>(() => {}); // runs until a signal
}

/** The primary of --workers n: forks the workers (each runs this same command), stops them on a signal. */
async function startPrimary(workers: number, logger: Logger, config: ResolvedConfig): Promise<number> {
  // One admin token for all workers (the admin port is shared by node:cluster), generated if absent.
  const env = { ...process.env };
  if (!env.UDPGW_ADMIN_TOKEN && !config.admin.token) { // the environment overrides the file: set it only when neither has one
    env.UDPGW_ADMIN_TOKEN = randomBytes(18).toString('base64url');
    logger.warn({ adminToken: env.UDPGW_ADMIN_TOKEN }, 'no UDPGW_ADMIN_TOKEN: generated one shared by all workers (a token in the config file wins)');
  }
  const notify = systemdNotifier({ env, onError: (err) => logger.warn({ err }, 'systemd-notify could not run: readiness not reported') });
  delete env.NOTIFY_SOCKET; // only the primary (systemd's main pid) reports readiness
  const primary = startClusterPrimary({ workers, logger, env });
  const stop = (signal: string) => { logger.info({ signal }, 'stopping workers'); notify.stopping(); void primary.stop().then(() => process.exit(0)); };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.once(s, () => stop(s));
  // SIGHUP (systemctl reload): every worker reads the config again and applies the difference.
  let ready = false;
  if (process.platform !== 'win32') process.on('SIGHUP', () => {
    if (!ready) { logger.warn('SIGHUP before every worker is ready: not reloaded'); return; }
    notify.reloading();
    void primary.reload('SIGHUP').finally(() => notify.ready());
  });
  await primary.ready;
  ready = true;
  notify.ready(`serving with ${workers} workers`);
  process.stderr.write(`udp-gateway is running with ${workers} workers sharing each listener port (SO_REUSEPORT); SIGHUP reloads every worker\n`);
  return new Promise<number>(() => {});
}
