#!/usr/bin/env node
/** udp-gateway start | validate | send */
import { parseArgs } from 'node:util';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { loadConfig, readDotEnv } from './config/load.js';
import { PRESETS } from './presets/udp-gate.js';
import { ConfigError, GatewayError } from '../gateway/errors.js';
import { runGateway, handleSignals, banner } from './run.js';
import { createLogger } from '../gateway/logger.js';
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { startClusterPrimary, runClusterWorker } from './cluster.js';
import './builtin-kinds.js';

const USAGE = `usage:
  udp-gateway start [--config <file> | --preset <name>] [--port <udp port>] [--admin-port <port>] [--workers <n>]
      no --config: UDPGW_CONFIG_JSON if set, else the built-in local default
      (echo handler + NDJSON archive on 127.0.0.1:5555)
      --preset udp-gate: the Redis-driven UDP proxy's environment (PROXY_ADDR, REDIS_ADDR, …, and .env)
      --workers n: n processes sharing each listener port with SO_REUSEPORT (native transport)
  udp-gateway validate <file>
  udp-gateway send --to <host:port> [--wait <ms>] [--hex] <message>`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start': return start(rest);
    case 'validate': return validateCmd(rest);
    case 'send': return send(rest);
    default:
      process.stderr.write(`${USAGE}\n`);
      return cmd === undefined || cmd === '--help' || cmd === 'help' ? 0 : 2;
  }
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: {
    config: { type: 'string', short: 'c' }, preset: { type: 'string' }, port: { type: 'string' }, 'admin-port': { type: 'string' }, workers: { type: 'string' },
  } });
  const env = { ...process.env };
  if (values.port) env.UDPGW_PORT = values.port;
  if (values['admin-port']) env.UDPGW_ADMIN_PORT = values['admin-port'];
  if (values.preset && values.config) throw new Error('--preset and --config exclude each other: give one');
  const presetOf = values.preset ? PRESETS[values.preset] : undefined;
  if (values.preset && !presetOf) throw new Error(`unknown --preset "${values.preset}": use one of ${Object.keys(PRESETS).join(', ')}`);
  const preset = presetOf?.({ ...readDotEnv(), ...process.env });
  const config = loadConfig({ ...(values.config ? { file: values.config } : {}), ...(preset ? { raw: preset.config } : {}), env });
  const logger = createLogger(config.log.level);
  const workers = Number(values.workers ?? preset?.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a whole number >= 1');
  if (workers > 1 && cluster.isPrimary) return startPrimary(workers, logger);
  const running = cluster.isWorker ? await runClusterWorker(config, { logger, preference: config.transport }) : await runGateway(config, { logger });
  if (cluster.isWorker) return new Promise<number>(() => {});
  handleSignals(running, logger);
  process.stderr.write(banner(running) + '\n');
  return new Promise<number>(() => {}); // runs until a signal
}

/** The primary of --workers n: forks the workers (each runs this same command), stops them on a signal. */
async function startPrimary(workers: number, logger: ReturnType<typeof createLogger>): Promise<number> {
  // One admin token for all workers (the admin port is shared by node:cluster), generated if absent.
  const env = { ...process.env };
  if (!env.UDPGW_ADMIN_TOKEN) {
    env.UDPGW_ADMIN_TOKEN = randomBytes(18).toString('base64url');
    logger.warn({ adminToken: env.UDPGW_ADMIN_TOKEN }, 'no UDPGW_ADMIN_TOKEN: generated one shared by all workers (a token in the config file wins)');
  }
  const primary = startClusterPrimary({ workers, logger, env });
  const stop = (signal: string) => { logger.info({ signal }, 'stopping workers'); void primary.stop().then(() => process.exit(0)); };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.once(s, () => stop(s));
  await primary.ready;
  process.stderr.write(`udp-gateway is running with ${workers} workers sharing each listener port (SO_REUSEPORT)\n`);
  return new Promise<number>(() => {});
}

function validateCmd(args: string[]): number {
  const file = args[0];
  if (!file) { process.stderr.write(`${USAGE}\n`); return 2; }
  loadConfig({ file });
  process.stdout.write(`${file}: valid\n`);
  return 0;
}

async function send(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { to: { type: 'string' }, wait: { type: 'string', default: '1000' }, hex: { type: 'boolean' } } });
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(values.to ?? '127.0.0.1:5555');
  if (!m) { process.stderr.write('--to must be host:port or [ipv6]:port\n'); return 2; }
  const [, host, port] = m as unknown as [string, string, string];
  const text = positionals.join(' ') || 'hello';
  const data = values.hex ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8');
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  let replies = 0;
  socket.on('message', (msg, rinfo) => {
    replies++;
    process.stdout.write(`reply from ${rinfo.address}:${rinfo.port} (${msg.length} bytes): ${values.hex ? msg.toString('hex') : msg.toString('utf8')}\n`);
  });
  await new Promise<void>((resolve, reject) => socket.send(data, Number(port), host, (err) => (err ? reject(err) : resolve())));
  await new Promise((r) => setTimeout(r, Number(values.wait)));
  socket.close();
  if (replies === 0) process.stderr.write(`no reply within ${values.wait} ms\n`);
  return replies > 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else if (err instanceof GatewayError) process.stderr.write(`${err.code}: ${err.message}\n`);
  else process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
