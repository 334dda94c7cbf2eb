#!/usr/bin/env node
/**
 * udp-gateway start | validate | send | proxy | service. Each command's module is imported only when that
 * command runs (app/cli/<command>.ts), so `send`, `--help` and `--version` start in about the time
 * Node itself takes, without the config schema, the plugins, fastify or pino.
 * Exit codes: 0 ok, 1 the command failed (a GatewayError's code and message, no stack), 2 usage error.
 */
import { COMMANDS, HELP, UsageError, type Command } from './cli/usage.js';
import { packageVersion } from '../gateway/package.js';

const run: Record<Command, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  start: () => import('./cli/start.js'),
  validate: () => import('./cli/validate.js'),
  send: () => import('./cli/send.js'),
  proxy: () => import('./cli/proxy.js'),
  service: () => import('./cli/service.js'),
};

const isHelp = (a: string) => a === '--help' || a === '-h';

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || isHelp(cmd) || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    process.stdout.write(`${HELP[(COMMANDS as readonly string[]).includes(topic ?? '') ? topic as Command : 'main']}\n`);
    return 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') { process.stdout.write(`udp-gateway ${packageVersion()}\n`); return 0; }
  if (!(COMMANDS as readonly string[]).includes(cmd)) {
    throw new UsageError(cmd.startsWith('-') ? `unknown option ${cmd} before the command: use one of ${COMMANDS.join(', ')}` : `unknown command "${cmd}": use one of ${COMMANDS.join(', ')}`);
  }
  const command = cmd as Command;
  const own = rest.indexOf('--');
  if ((own < 0 ? rest : rest.slice(0, own)).some(isHelp)) { process.stdout.write(`${HELP[command]}\n`); return 0; }
  return (await run[command]()).run(rest);
}

function fail(err: unknown): never {
  const cmd = process.argv[2];
  if (err instanceof UsageError) {
    const where = cmd && (COMMANDS as readonly string[]).includes(cmd) ? `udp-gateway ${cmd}` : 'udp-gateway';
    process.stderr.write(`${where}: ${err.message} (see ${where} --help)\n`);
    process.exit(2);
  }
  const e = err as { code?: unknown; message?: unknown; stack?: unknown };
  const coded = typeof e?.code === 'string' && e.code.startsWith('UGW_ERR_');
  process.stderr.write(coded ? `${e.code}: ${String(e.message)}\n` : `udp-gateway: ${String(e?.message ?? err)}\n`);
  if (process.env.UDPGW_DEBUG) process.stderr.write(`${String(e?.stack ?? '')}\n`);
  process.exit(1);
}

main(process.argv.slice(2)).then((code) => process.exit(code), fail);
