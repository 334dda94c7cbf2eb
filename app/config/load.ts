/**
 * Load, override from the environment, validate and freeze the configuration.
 * Precedence: built-in defaults < file < environment (.env is read if present, real env wins).
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, CommonDestinationSchema, COMMON_DESTINATION_KEYS, type DestinationConfig } from '../../gateway/config/schema.js';
import type { PacketSourceConfig, ResolvedConfig } from '../../gateway/config/resolved.js';
import { validate } from '../../gateway/config/validate.js';
import { ConfigError, type ConfigProblem } from '../../gateway/errors.js';
import { destinationKinds, packetSourceKinds } from '../../gateway/extension/registry.js';
import '../builtin-kinds.js';
import { checkCidr } from '../../gateway/cidr.js';

export type { PacketSourceConfig, ResolvedListener, ResolvedConfig } from '../../gateway/config/resolved.js';

export const ENV_PREFIX = 'UDPGW_';

/** Read a YAML or JSON file. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read ${file}: ${(err as Error).message}` }], 'UGW_ERR_CONFIG_READ');
  }
  try { return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text); } catch (err) {
    throw new ConfigError([{ path: '', message: `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}` }], 'UGW_ERR_CONFIG_READ');
  }
}

/**
 * Environment overrides. Well-known variables, plus a generic form for any key:
 *   UDPGW_SECRET, UDPGW_ADMIN_TOKEN, UDPGW_ADMIN_PORT, UDPGW_ADMIN_HOST, UDPGW_LOG_LEVEL,
 *   UDPGW_PORT / UDPGW_HOST (first listener), UDPGW_REPLY_WINDOW_SECONDS,
 *   UDPGW_CONFIG__<path with __ between keys>=<JSON or text>, e.g. UDPGW_CONFIG__listeners__0__port=6000
 */
export function applyEnv(input: unknown, env: NodeJS.ProcessEnv): unknown {
  const cfg = structuredClone((input ?? {}) as Record<string, unknown>);
  const set = (path: (string | number)[], raw: string) => setPath(cfg, path, coerce(raw));
  const known: Record<string, (string | number)[]> = {
    SECRET: ['secret'], ADMIN_TOKEN: ['admin', 'token'], ADMIN_PORT: ['admin', 'port'], ADMIN_HOST: ['admin', 'host'],
    LOG_LEVEL: ['log', 'level'], PORT: ['listeners', 0, 'port'], HOST: ['listeners', 0, 'host'],
    REPLY_WINDOW_SECONDS: ['replyWindowSeconds'], SHUTDOWN_DEADLINE_MS: ['shutdownDeadlineMs'],
  };
  for (const [suffix, path] of Object.entries(known)) {
    const v = env[ENV_PREFIX + suffix];
    if (v !== undefined && v !== '') set(path, suffix === 'SECRET' || suffix === 'ADMIN_TOKEN' ? JSON.stringify(v) : v);
  }
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(ENV_PREFIX + 'CONFIG__') || v === undefined) continue;
    const path = k.slice((ENV_PREFIX + 'CONFIG__').length).split('__').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    set(path, v);
  }
  return cfg;
}

function coerce(raw: string): unknown {
  try { return JSON.parse(raw); } catch { return raw; }
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) { node[key] = value; return; }
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
}

/** Validate a raw config object: every problem listed by path. Throws ConfigError. */
export function resolveConfig(raw: unknown, baseDir: string): ResolvedConfig {
  const top = validate(ConfigSchema, raw);
  if ('problems' in top) throw new ConfigError([...top.problems, ...destinationProblems(raw)]);
  const cfg = top.value;
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  const listeners = cfg.listeners.map((l, li) => {
    const at = `/listeners/${li}`;
    if (names.has(l.name)) problems.push({ path: `${at}/name`, message: `duplicate listener name "${l.name}": names must be unique` });
    names.add(l.name);
    for (const key of ['allow', 'deny'] as const) {
      l[key]?.forEach((c, ci) => { const e = checkCidr(c); if (e) problems.push({ path: `${at}/${key}/${ci}`, message: e }); });
    }
    const destNames = new Set<string>();
    const destinations = l.destinations.map((d, di) => resolveDestination(d, `${at}/destinations/${di}`, problems, destNames));
    return { ...l, destinations: destinations.filter((d): d is DestinationConfig => d !== undefined) };
  });
  cfg.egress.allow.forEach((c, ci) => { const e = checkCidr(c); if (e) problems.push({ path: `/egress/allow/${ci}`, message: e }); });
  const packetSources = cfg.packetSources.map((p, pi) => resolvePacketSource(p, `/packetSources/${pi}`, problems, names));
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze({ ...cfg, listeners, packetSources: packetSources.filter((p): p is PacketSourceConfig => !!p), baseDir });
}

/** Problems of every destination entry of a config whose outer shape is wrong: list them all at once. */
function destinationProblems(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const listeners = (raw as { listeners?: unknown })?.listeners;
  if (!Array.isArray(listeners)) return problems;
  listeners.forEach((l: { destinations?: unknown }, li) => {
    if (!Array.isArray(l?.destinations)) return;
    const names = new Set<string>();
    l.destinations.forEach((d: unknown, di) => {
      if (d && typeof d === 'object' && !Array.isArray(d)) resolveDestination(d as Record<string, unknown>, `/listeners/${li}/destinations/${di}`, problems, names);
    });
  });
  return problems;
}

function resolveDestination(raw: Record<string, unknown>, at: string, problems: ConfigProblem[], names: Set<string>): DestinationConfig | undefined {
  const common: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) (COMMON_DESTINATION_KEYS.includes(k) ? common : options)[k] = v;
  const kind = typeof common.type === 'string' ? destinationKinds.get(common.type) : undefined;
  if (kind?.batchDefaults && (common.batch === undefined || (typeof common.batch === 'object' && common.batch !== null))) {
    common.batch = { ...kind.batchDefaults, ...(common.batch as object | undefined) };
  }
  const c = validate(CommonDestinationSchema, common, at);
  if ('problems' in c) { problems.push(...c.problems); return undefined; }
  if (!kind) {
    problems.push({ path: `${at}/type`, message: `unknown destination type "${c.value.type}": use one of ${destinationKinds.types().join(', ')}` });
    return undefined;
  }
  const v = validate(kind.options, options, at);
  const o = 'problems' in v || !kind.refine ? v : kind.refine(v.value, at);
  const deadLetter = c.value.deadLetter ? resolveDeadLetter(c.value.deadLetter, `${at}/deadLetter`, problems) : undefined;
  if ('problems' in o) { problems.push(...o.problems); return undefined; }
  const name = c.value.name ?? `${c.value.type}${names.size ? `-${names.size}` : ''}`;
  if (names.has(name)) problems.push({ path: `${at}/name`, message: `duplicate destination name "${name}" on this listener: give each a unique name` });
  names.add(name);
  const { deadLetter: _raw, ...rest } = c.value;
  return { ...rest, name, options: o.value as Record<string, unknown>, ...(deadLetter ? { deadLetter } : {}) };
}

/** Keys of a destination entry that mean nothing for a dead-letter target (it is written directly,
 *  within its kind's limits, with its own retry). */
const NOT_FOR_DEAD_LETTER = ['batch', 'queue', 'inFlight', 'deadLetter', 'sample'];

/** A dead-letter target: the shorthands `{ file }` and `{ sqsQueueUrl }`, or any destination kind. */
function resolveDeadLetter(raw: Record<string, unknown>, at: string, problems: ConfigProblem[]): DestinationConfig | undefined {
  const entry = 'file' in raw ? { type: 'file', path: raw.file }
    : 'sqsQueueUrl' in raw ? { type: 'sqs', queueUrl: raw.sqsQueueUrl, ...(raw.region ? { region: raw.region } : {}), ...(raw.endpoint ? { endpoint: raw.endpoint } : {}) }
    : raw;
  let ok = true;
  for (const key of NOT_FOR_DEAD_LETTER) {
    if (key in entry) { problems.push({ path: `${at}/${key}`, message: 'not used by a dead-letter target (it is written directly, with its own retry): remove it' }); ok = false; }
  }
  const d = resolveDestination({ name: 'dead-letter', ...entry }, at, problems, new Set());
  return ok ? d : undefined;
}

function resolvePacketSource(raw: Record<string, unknown>, at: string, problems: ConfigProblem[], listeners: Set<string>): PacketSourceConfig | undefined {
  const { name, type, listener, ...options } = raw as { name?: unknown; type?: unknown; listener?: unknown };
  if (typeof type !== 'string') { problems.push({ path: `${at}/type`, message: `is required: one of ${packetSourceKinds.types().join(', ')}` }); return undefined; }
  const kind = packetSourceKinds.get(type);
  if (!kind) { problems.push({ path: `${at}/type`, message: `unknown packet source type "${type}": use one of ${packetSourceKinds.types().join(', ')}` }); return undefined; }
  if (listener !== undefined && (typeof listener !== 'string' || !listeners.has(listener))) {
    problems.push({ path: `${at}/listener`, message: `names no configured listener: use one of ${[...listeners].join(', ')}` });
  }
  const o = validate(kind.options, options, at);
  if ('problems' in o) { problems.push(...o.problems); return undefined; }
  return { name: typeof name === 'string' ? name : type, type, listener: listener as string | undefined, options: o.value as Record<string, unknown> };
}

export interface LoadOptions {
  /** Config file (YAML or JSON); absent: the built-in local default. */
  readonly file?: string;  // absent: UDPGW_CONFIG_JSON if set, else the built-in local default
  readonly env?: NodeJS.ProcessEnv;
  /** Directory for the built-in default's relative paths. */
  readonly defaultBaseDir?: string;
  /** A raw config made by a preset (--preset), used instead of a file. */
  readonly raw?: Record<string, unknown>;
}

/** Built-in local default: echo handler + NDJSON archive on 127.0.0.1:5555, admin on 127.0.0.1:9555. */
export function defaultConfig(): Record<string, unknown> {
  return {
    listeners: [{
      name: 'default', host: '127.0.0.1', port: 5555,
      destinations: [
        { name: 'echo', type: 'handler', module: 'examples/echo-handler.mjs' },
        { name: 'archive', type: 'file', path: 'data/packets.ndjson' },
      ],
    }],
  };
}

export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const env = { ...readDotEnv(), ...(opts.env ?? process.env) };
  const raw = opts.raw ?? (opts.file ? readConfigFile(opts.file) : env[ENV_PREFIX + 'CONFIG_JSON'] ? configFromEnv(env[ENV_PREFIX + 'CONFIG_JSON']!) : defaultConfig());
  const baseDir = opts.file ? dirname(resolve(opts.file)) : (opts.defaultBaseDir ?? process.cwd());
  return resolveConfig(applyEnv(raw, env), baseDir);
}

/** UDPGW_CONFIG_JSON: the whole config as JSON (containers fed from a parameter store), when no file is given. */
function configFromEnv(text: string): unknown {
  try { return JSON.parse(text); } catch (err) {
    throw new ConfigError([{ path: '', message: `UDPGW_CONFIG_JSON is not valid JSON: ${(err as Error).message}` }], 'UGW_ERR_CONFIG_READ');
  }
}

/** `.env` in the working directory, if there is one (the environment wins over it). */
export function readDotEnv(): Record<string, string> {
  const file = resolve('.env');
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    out[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
