/** Process lifecycle: start gateway + admin API, banner, signals (SIGTERM/SIGINT drain with deadline, SIGQUIT without). */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ResolvedConfig } from './config/load.js';
import type { DestinationConfig } from '../gateway/config/schema.js';
import { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
import { buildAdminApi } from './admin.js';
import { createLogger } from '../gateway/logger.js';
import { GatewayError } from '../gateway/errors.js';
import { createReloader, type ReloadHooks, type ReloadReport } from './reload.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly admin: FastifyInstance | undefined;
  /** Admin API base URL, when enabled. */
  readonly adminUrl: string | undefined;
  readonly adminToken: string;
  stop(deadlineMs?: number): Promise<void>;
  /** Read the config again and apply the difference (SIGHUP, POST /v1/reload): app/reload.ts. */
  reload(reason?: string): Promise<ReloadReport>;
}

export interface RunOptions extends GatewayOptions {
  /** Reads the config again, as start read it (file, preset, environment); without it a reload answers failed. */
  readonly reloadConfig?: () => ResolvedConfig;
  readonly reloadHooks?: ReloadHooks;
  /** What POST /v1/reload runs (a cluster worker asks the primary to reload every worker); default: reload(). */
  readonly adminReload?: () => Promise<ReloadReport>;
}

export async function runGateway(config: ResolvedConfig, opts: RunOptions = {}): Promise<RunningGateway> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const gateway = await createGateway(config, { ...opts, logger });
  const reloader = createReloader(gateway, opts.reloadConfig ?? (() => {
    throw new GatewayError('UGW_ERR_RELOAD_FAILED', 'this gateway was started from a config object, not a file: there is nothing to read again');
  }), opts.reloadHooks);
  const reload = (reason?: string) => reloader.reload(reason);
  let adminToken = config.admin.token ?? '';
  if (!adminToken) {
    adminToken = randomBytes(18).toString('base64url');
    logger.warn({ adminToken }, 'no admin token configured (admin.token or UDPGW_ADMIN_TOKEN): generated one for this process');
  }
  let admin: FastifyInstance | undefined;
  let adminUrl: string | undefined;
  if (config.admin.enabled) {
    admin = buildAdminApi(gateway, { token: adminToken, reload: opts.adminReload ?? (() => reload('POST /v1/reload')), limits: { requestTimeoutMs: config.admin.requestTimeoutMs, maxConnections: config.admin.maxConnections } });
    try {
      await admin.listen({ host: config.admin.host, port: config.admin.port });
    } catch (err) {
      await gateway.shutdown(0);
      throw new Error(`admin API cannot listen on ${config.admin.host}:${config.admin.port}: ${(err as Error).message}; set admin.port or UDPGW_ADMIN_PORT`);
    }
    const a = admin.server.address();
    if (a && typeof a === 'object') adminUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    logger.info({ url: adminUrl }, 'admin API listening');
  }
  const stop = async (deadlineMs?: number) => {
    await gateway.shutdown(deadlineMs);
    await admin?.close();
  };
  return { gateway, admin, adminUrl, adminToken, stop, reload };
}

/**
 * Install signal handlers: SIGTERM/SIGINT drain within the deadline, SIGQUIT waits with no
 * deadline, SIGHUP reloads the config (not on Windows, which has no SIGHUP: POST /v1/reload).
 */
export function handleSignals(running: RunningGateway, logger: Logger, exit: (code: number) => void = process.exit, onStopping?: () => void): void {
  let stopping = false;
  const on = (signal: NodeJS.Signals, deadline: () => number) => process.on(signal, () => {
    if (stopping) { logger.warn({ signal }, 'second signal: exiting now'); exit(1); return; }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    onStopping?.();
    running.stop(deadline()).then(() => exit(0), (err) => { logger.error({ err }, 'shutdown failed'); exit(1); });
  });
  on('SIGTERM', () => running.gateway.config.shutdownDeadlineMs); // read at the signal: a reload may have changed it
  on('SIGINT', () => running.gateway.config.shutdownDeadlineMs);
  on('SIGQUIT', () => Infinity);
  if (process.platform !== 'win32') process.on('SIGHUP', () => { if (!stopping) void running.reload('SIGHUP'); });
}

export function banner(running: RunningGateway): string {
  const lines = ['', 'udp-gateway is running'];
  const { config } = running.gateway;
  for (const [name, l] of running.gateway.listeners) {
    const a = l.local;
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    lines.push(`  listener ${name}: udp ${host}:${a.port}`);
    for (const d of config.listeners.find((c) => c.name === name)?.destinations ?? []) lines.push(`    -> ${d.name}: ${describeDestination(d, config.baseDir)}`);
    lines.push(`    try it:  npx udp-gateway send --to ${host}:${a.port} hello`);
    lines.push(`         or  echo hello | nc -u -w1 ${a.address} ${a.port}`);
  }
  if (running.adminUrl) {
    lines.push(`  admin API: ${running.adminUrl}  (/healthz /readyz /metrics /v1/status; POST /v1/send and /v1/reload with Bearer token)`);
    lines.push(`  status page: ${running.adminUrl}/`);
  }
  lines.push('  stop with Ctrl-C (drains queues), SIGQUIT waits for all in-flight work; SIGHUP reloads the config', '');
  return lines.join('\n');
}

/** A udp destination's backends, or the router that picks them (redis, rules, module). */
function udpWhere(o: Record<string, unknown>): string {
  const router = o.router as { type?: string; backends?: string[] } | undefined;
  const backends = (o.backends as string[] | undefined) ?? router?.backends;
  if (router?.type && router.type !== 'static') return `${router.type} router${backends ? ` (${backends.join(', ')})` : ''}`;
  return backends ? backends.join(', ') : 'no backends';
}

/** One line per destination: its kind and where it goes (files as absolute paths). */
function describeDestination(d: DestinationConfig, baseDir: string): string {
  const o = d.options;
  const where = d.type === 'handler' ? resolve(baseDir, String(o.module))
    : d.type === 'file' ? `${resolve(baseDir, String(o.path))} (archive, one JSON line per packet)`
    : d.type === 'udp' ? udpWhere(o)
    : ['url', 'queueUrl', 'topicArn', 'streamName', 'deliveryStreamName', 'bucket', 'tableName', 'logGroupName', 'functionName', 'stateMachineArn', 'eventBusName']
      .map((k) => o[k]).find((v) => typeof v === 'string');
  return where ? `${d.type} ${where}` : d.type;
}
