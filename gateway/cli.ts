#!/usr/bin/env node
/** udp-gateway start | validate | send */
import { parseArgs } from 'node:util';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { loadConfig } from './config/load.js';
import { ConfigError, GatewayError } from './errors.js';
import { runGateway, handleSignals, banner } from './run.js';
import { createLogger } from './logger.js';
import '../destinations/builtin.js';
import '../packet-source/builtin.js';

const USAGE = `usage:
  udp-gateway start [--config <file>] [--port <udp port>] [--admin-port <port>]
      no --config: built-in local default (echo handler + NDJSON archive on 127.0.0.1:5555)
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
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, port: { type: 'string' }, 'admin-port': { type: 'string' } } });
  const env = { ...process.env };
  if (values.port) env.UDPGW_PORT = values.port;
  if (values['admin-port']) env.UDPGW_ADMIN_PORT = values['admin-port'];
  const config = loadConfig({ ...(values.config ? { file: values.config } : {}), env });
  const logger = createLogger(config.log.level);
  const running = await runGateway(config, { logger });
  handleSignals(running, logger);
  process.stderr.write(banner(running) + '\n');
  return new Promise<number>(() => {}); // runs until a signal
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
