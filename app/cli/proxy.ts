/**
 * `udp-gateway proxy --listen :2203 --to a:8125 --to b:8125`: a UDP proxy without a config file,
 * for those who ran `udp-proxy --source :2203 --target a:8125 --target b:8125`. It builds an
 * ordinary config (one `udp` destination per target, each with its own queue, so every packet goes
 * to every target and a slow target never holds up the other: StatsD dual-write), checks it like
 * any other, prints it, and runs it as `start` would.
 */
import { stringify } from 'yaml';
import { hostPortOption, intOption, parseOptions, UsageError } from './usage.js';
import { resolveConfig } from '../config/load.js';
import { createLogger } from '../../gateway/logger.js';
import { parseHostPort } from '../../destinations/udp/options.js';
import { serve } from './start.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const REPLIES = ['first', 'all', 'none'];

export interface ProxyFlags {
  readonly listen: string;
  readonly to: readonly string[];
  readonly queue?: number;
  readonly logLevel?: string;
  readonly replies?: string;
  readonly adminPort?: number;
}

/** The config a proxy command line stands for. Pure. */
export function proxyConfig(f: ProxyFlags): Record<string, unknown> {
  const listen = hostPortOption('listen', f.listen, '0.0.0.0', 0);
  if (f.to.length === 0) throw new UsageError('at least one --to <host:port> is needed');
  for (const t of f.to) {
    const hp = parseHostPort(t);
    if (hp instanceof Error) throw new UsageError(`--to ${hp.message.replace(/^backend /, '')}`);
  }
  const replies = f.replies ?? 'first';
  if (!REPLIES.includes(replies)) throw new UsageError(`--replies must be one of ${REPLIES.join(', ')}, got "${replies}"`);
  if (f.logLevel !== undefined && !LEVELS.includes(f.logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${f.logLevel}"`);
  return {
    ...(f.logLevel ? { log: { level: f.logLevel } } : {}),
    ...(f.adminPort !== undefined ? { admin: { port: f.adminPort } } : {}),
    listeners: [{
      name: 'proxy', host: listen.host, port: listen.port,
      destinations: f.to.map((target, i) => ({
        name: `to-${i + 1}`, type: 'udp', backends: [target],
        ...(replies === 'all' || (replies === 'first' && i === 0) ? {} : { replies: false }),
        ...(f.queue !== undefined ? { queue: { maxPackets: f.queue } } : {}),
      })),
    }],
  };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions({ args, options: {
    listen: { type: 'string' }, to: { type: 'string', multiple: true }, queue: { type: 'string' },
    'log-level': { type: 'string' }, replies: { type: 'string' }, 'admin-port': { type: 'string' }, 'print-config': { type: 'boolean' },
  } });
  if (!values.listen) throw new UsageError('--listen <host:port> is needed (":2203" listens on all addresses)');
  const raw = proxyConfig({
    listen: values.listen, to: values.to ?? [],
    ...(values.queue !== undefined ? { queue: intOption('queue', values.queue, 1, 100_000_000)! } : {}),
    ...(values['log-level'] !== undefined ? { logLevel: values['log-level'] } : {}),
    ...(values.replies !== undefined ? { replies: values.replies } : {}),
    ...(values['admin-port'] !== undefined ? { adminPort: intOption('admin-port', values['admin-port'], 0, 65535)! } : {}),
  });
  const yaml = stringify(raw);
  if (values['print-config']) { process.stdout.write(yaml); return 0; }
  const config = resolveConfig(raw, process.cwd());
  const preface = `udp-gateway proxy stands for this config (save it as proxy.yaml and run \`udp-gateway start --config proxy.yaml\`):\n\n${yaml.replace(/^/gm, '  ')}`;
  return serve(config, createLogger(config.log.level), preface, () => resolveConfig(raw, process.cwd()));
}
