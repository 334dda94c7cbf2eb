/** `udp-gateway validate [<file>]`: the checks `start` runs (loadConfig), nothing started. */
import { parseOptions, UsageError } from './usage.js';
import { loadConfig } from '../config/load.js';

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseOptions({ args, options: { config: { type: 'string', short: 'c' } }, allowPositionals: true });
  const file = values.config ?? positionals[0];
  if (positionals.length > (values.config ? 0 : 1)) throw new UsageError(`validate takes one file, got ${positionals.length + (values.config ? 1 : 0)}`);
  const config = loadConfig(file ? { file } : {});
  const n = config.listeners.reduce((k, l) => k + l.destinations.length, 0);
  process.stdout.write(`${file ?? 'the built-in default'}: valid (${config.listeners.length} listener${config.listeners.length === 1 ? '' : 's'}, ${n} destination${n === 1 ? '' : 's'})\n`);
  return 0;
}
