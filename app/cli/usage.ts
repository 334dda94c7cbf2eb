/**
 * The CLI's words: usage of each command, and usage errors. Loads nothing but node:util, so
 * `--help`, `--version` and a usage error answer at once. A usage error is one line naming the
 * problem and exits with code 2 (UGW_ERR_CLI_USAGE).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  readonly code = 'UGW_ERR_CLI_USAGE';
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export const COMMANDS = ['start', 'validate', 'send', 'proxy', 'service'] as const;
export type Command = typeof COMMANDS[number];

export const HELP: Record<Command | 'main', string> = {
  main: `usage: udp-gateway <command> [options]      (udp-gateway <command> --help for its options)

commands:
  start      run the gateway (no config: a local demo on 127.0.0.1:5555)
  validate   check a config file: every problem, the same checks as start
  send       send one datagram and print the replies (a client for trying it out)
  proxy      a UDP proxy from flags, no config file: every packet to every --to (dual-write)
  service    the systemd unit that runs the gateway as a service: print it, or install it

  udp-gateway --version | -v     print the version
  udp-gateway --help | -h        this text`,
  start: `usage: udp-gateway start [--config <file> | --preset udp-gate] [--port <udp port>] [--admin-port <port>] [--workers <n>]

  -c, --config <file>      YAML or JSON config; without it: UDPGW_CONFIG_JSON if set, else the built-in
                           local demo (the package's echo handler + an NDJSON archive under ./data/)
      --port <n>           UDP port of the first listener (0-65535; 0 picks a free one)
      --admin-port <n>     admin API port (0-65535)
      --workers <n>        n processes sharing each listener port with SO_REUSEPORT (n >= 1)
  -h, --help               this text`,
  validate: `usage: udp-gateway validate [<file>]

  Checks a config file without starting anything, with the same checks as start (schema,
  addresses, names, handler files, …), and lists every problem with its path and the fix.
  Without a file: what start would run (UDPGW_CONFIG_JSON, else the built-in default).
  Exit code 0: valid; 1: problems; 2: usage error.`,
  send: `usage: udp-gateway send [--to <host:port>] [--wait <ms>] [--hex] [<message>…]

      --to <host:port>     where to send (default 127.0.0.1:5555; [ipv6]:port for IPv6)
      --wait <ms>          how long to wait for replies (default 1000)
      --hex                the message is hex, and replies are printed as hex
  Prints each reply; exit code 0 when one came, 1 when none did.`,
  proxy: `usage: udp-gateway proxy --listen <host:port> --to <host:port> [--to <host:port> …] [options]

  A UDP proxy without a config file: every packet to every --to (one udp destination each, with
  its own queue: StatsD dual-write), replies from the first --to back to the client.
      --listen <host:port>  where to listen (":2203" = 0.0.0.0:2203)
      --to <host:port>      a target; repeat for more
      --queue <n>           packets queued per target before drops (default 10000)
      --log-level <level>   fatal, error, warn, info, debug, trace or silent (default info)
      --replies <which>     first (default), all or none: whose datagrams go back to the client
      --admin-port <n>      admin API port (default 9555; 0 picks a free one)
      --print-config        print the config this stands for and exit
  On start it prints that config: \`udp-gateway start --config <it>\` runs the same gateway.`,
  service: `usage: udp-gateway service unit [--config <file>] [--user <name>] [--workers <n>]
       udp-gateway service install [--config <file>] [--user <name>] [--workers <n>] [--path <file>] [--dry-run]

  unit       print the systemd unit (Type=notify, restart on failure, hardened, reload on SIGHUP)
  install    write it to /etc/systemd/system/udp-gateway.service (or --path) and print the
             systemctl commands to run next; --dry-run prints it instead
  -c, --config <file>      the config the service runs (checked first, like validate); it also sizes
                           LimitNOFILE, grants CAP_NET_BIND_SERVICE only for ports below 1024, and
                           makes its output directories writable. Without it: the built-in default
      --user <name>        run as this (existing) user instead of a dynamic one (DynamicUser=yes)
      --workers <n>        start --workers n
  On Windows: see docs/service.md (NSSM or node-windows).`,
};

/** parseArgs (strict) with its errors turned into one-line usage errors that name the problem. */
export function parseOptions<T extends ParseArgsConfig & { options: NonNullable<ParseArgsConfig['options']> }>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ ...config, strict: true });
  } catch (err) {
    throw usageFromParseArgs(err as Error & { code?: string }, Object.keys(config.options));
  }
}

function usageFromParseArgs(err: Error & { code?: string }, known: string[]): UsageError {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = closest(quoted.replace(/^-+/, ''), known);
      return new UsageError(`unknown option ${quoted}${near ? `: did you mean --${near}?` : ''}`);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = /--[\w-]+/.exec(err.message)?.[0] ?? quoted;
      return new UsageError(`option ${name} needs a value`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument "${quoted}"`);
    default:
      return new UsageError(err.message.split('\n')[0]!);
  }
}

/** The known option nearest to a misspelt one (edit distance <= 2), if any. */
function closest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(word, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** A whole-number option within bounds, or a usage error naming it. */
export function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** "host:port", "[v6]:port" or ":port" (all addresses). */
export function hostPortOption(name: string, text: string, defaultHost: string, minPort = 1): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]*):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < minPort || port > 65535) {
    throw new UsageError(`--${name} "${text}" must be host:port, [ipv6]:port or :port, with a port from ${minPort} to 65535`);
  }
  return { host: m[1] || defaultHost, port };
}
