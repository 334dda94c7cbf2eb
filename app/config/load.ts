/**
 * Load, override from the environment, validate and freeze the configuration.
 * Precedence: built-in defaults < file < environment (.env is read if present, real env wins).
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../../gateway/package.js';
import { ConfigSchema, CommonDestinationSchema, COMMON_DESTINATION_KEYS, type DestinationConfig } from '../../gateway/config/schema.js';
import type { PacketSourceConfig, ResolvedConfig } from '../../gateway/config/resolved.js';
import { validate } from '../../gateway/config/validate.js';
import { ConfigError, type ConfigProblem } from '../../gateway/errors.js';
import { destinationKinds, listenerProtocolKinds, packetSourceKinds } from '../../gateway/extension/registry.js';
import '../builtin-kinds.js';
import { checkCidr } from '../../gateway/cidr.js';
import { CONFIG_LIMITS, FORBIDDEN_KEYS, configShapeProblem } from '../../gateway/config/input-guard.js';

export type { PacketSourceConfig, ResolvedListener, ResolvedConfig } from '../../gateway/config/resolved.js';

export const ENV_PREFIX = 'UDPGW_';


import { readConfigFile } from './read.js';

export { readConfigFile };

/**
 * Environment overrides. Well-known variables, plus a generic form for any key:
 *   UDPGW_SECRET, UDPGW_ADMIN_TOKEN, UDPGW_ADMIN_PORT, UDPGW_ADMIN_HOST, UDPGW_LOG_LEVEL,
 *   UDPGW_PORT / UDPGW_HOST (first listener), UDPGW_REPLY_WINDOW_SECONDS,
 *   UDPGW_CLUSTER_REDIS, UDPGW_CLUSTER_NODE_ID, UDPGW_CLUSTER_KEY_PREFIX (cluster mode),
 *   UDPGW_CONFIG__<path with __ between keys>=<JSON or text>, e.g. UDPGW_CONFIG__listeners__0__port=6000
 */
export function applyEnv(input: unknown, env: NodeJS.ProcessEnv): unknown {
  const shape = configShapeProblem(input ?? {});
  if (shape) throw new ConfigError([shape]);
  const cfg = structuredClone((input ?? {}) as Record<string, unknown>);
  const problems: ConfigProblem[] = [];
  const set = (path: (string | number)[], raw: string, variable: string) => {
    const problem = setPath(cfg, path, coerce(raw));
    if (problem) problems.push({ path: '/' + path.join('/'), message: `${variable}: ${problem}` });
  };
  const known: Record<string, (string | number)[]> = {
    SECRET: ['secret'], ADMIN_TOKEN: ['admin', 'token'], ADMIN_PORT: ['admin', 'port'], ADMIN_HOST: ['admin', 'host'],
    LOG_LEVEL: ['log', 'level'], PORT: ['listeners', 0, 'port'], HOST: ['listeners', 0, 'host'],
    REPLY_WINDOW_SECONDS: ['replyWindowSeconds'], SHUTDOWN_DEADLINE_MS: ['shutdownDeadlineMs'],
    CLUSTER_REDIS: ['cluster', 'redis'], CLUSTER_NODE_ID: ['cluster', 'nodeId'], CLUSTER_KEY_PREFIX: ['cluster', 'keyPrefix'],
  };
  for (const [suffix, path] of Object.entries(known)) {
    const v = env[ENV_PREFIX + suffix];
    const text = suffix === 'SECRET' || suffix === 'ADMIN_TOKEN' || suffix.startsWith('CLUSTER_') ? JSON.stringify(v) : v;
    if (v !== undefined && v !== '') set(path, text!, ENV_PREFIX + suffix);
  }
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(ENV_PREFIX + 'CONFIG__') || v === undefined) continue;
    const path = k.slice((ENV_PREFIX + 'CONFIG__').length).split('__').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    set(path, v, k);
  }
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

function coerce(raw: string): unknown {
  try { return JSON.parse(raw); } catch { return raw; }
}

/** Sets root[path] = value, making mappings and lists on the way; a problem (text) for a path that
 *  names a forbidden key, a list index past the list's end (lists grow by one at most), or a key of a list. */
function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown): string | undefined {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) return `the key "${key}" is not allowed`;
    if (Array.isArray(node)) {
      if (typeof key !== 'number') return `"${key}" is not an index of the list at /${path.slice(0, i).join('/')}`;
      if (key > node.length || key >= CONFIG_LIMITS.maxItems) return `index ${key} is past the end of the list at /${path.slice(0, i).join('/')} (${node.length} items): use ${node.length} to add one`;
    }
    if (i === path.length - 1) { node[key] = value; return undefined; }
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  return undefined;
}

/**
 * Validate a raw config object: the schema, then every check beyond it (names unique, CIDRs,
 * listener addresses, each destination kind's own checks such as backends and handler files), all
 * in one run, so `validate` and `start` report the same problems, all of them at once. Throws
 * ConfigError listing every problem by path.
 */
export function resolveConfig(raw: unknown, baseDir: string): ResolvedConfig {
  const shape = configShapeProblem(raw);
  if (shape) throw new ConfigError([shape]);
  const top = validate(ConfigSchema, raw);
  const problems: ConfigProblem[] = 'problems' in top ? [...top.problems] : [];
  const input = isRecord(raw) ? raw : {};
  const rawListeners = Array.isArray(input.listeners) ? input.listeners : [];
  const names = new Set<string>();
  const bound: { host: string; port: number; at: string }[] = [];
  const listeners = rawListeners.map((l: unknown, li) => resolveListener(l, `/listeners/${li}`, { baseDir, problems, names, bound }));
  const egressAllow = isRecord(input.egress) && Array.isArray(input.egress.allow) ? input.egress.allow : [];
  egressAllow.forEach((c: unknown, ci) => cidrProblem(c, `/egress/allow/${ci}`, problems));
  const rawSources = Array.isArray(input.packetSources) ? input.packetSources : [];
  const packetSources = rawSources.map((p: unknown, pi) => (isRecord(p) ? resolvePacketSource(p, `/packetSources/${pi}`, problems, names) : undefined));
  if (problems.length || 'problems' in top) throw new ConfigError(ordered(problems, raw));
  const cfg = top.value;
  return deepFreeze({
    ...cfg,
    listeners: cfg.listeners.map((l, li) => {
      const { protocol: _raw, ...rest } = l;
      const r = listeners[li]!;
      return { ...rest, destinations: r.destinations, ...(r.protocol ? { protocol: r.protocol } : {}) };
    }),
    packetSources: packetSources.filter((p): p is PacketSourceConfig => !!p),
    baseDir,
  });
}

interface ListenerChecks {
  readonly baseDir: string;
  readonly problems: ConfigProblem[];
  readonly names: Set<string>;
  readonly bound: { host: string; port: number; at: string }[];
}

/** A listener's checks beyond the schema, on whatever shape it has; its resolved destinations. */
function resolveListener(l: unknown, at: string, c: ListenerChecks): ResolvedListenerParts {
  if (!isRecord(l)) return { destinations: [] };
  const protocol = isRecord(l.protocol) && typeof l.protocol.type === 'string' ? resolveProtocol(l.protocol as { type: string }, `${at}/protocol`, c.problems) : undefined;
  return { destinations: listenerDestinations(l, at, c), ...(protocol ? { protocol } : {}) };
}

interface ResolvedListenerParts {
  readonly destinations: DestinationConfig[];
  readonly protocol?: { type: string; options: Record<string, unknown> };
}

function listenerDestinations(l: Record<string, unknown>, at: string, c: ListenerChecks): DestinationConfig[] {
  if (typeof l.name === 'string') {
    if (c.names.has(l.name)) c.problems.push({ path: `${at}/name`, message: `duplicate listener name "${l.name}": give each listener a unique name` });
    c.names.add(l.name);
  }
  for (const key of ['allow', 'deny'] as const) {
    if (Array.isArray(l[key])) (l[key] as unknown[]).forEach((cidr, ci) => cidrProblem(cidr, `${at}/${key}/${ci}`, c.problems));
  }
  const host = typeof l.host === 'string' ? l.host : '127.0.0.1';
  if (typeof l.port === 'number' && l.port > 0) {
    const clash = c.bound.find((b) => b.port === l.port && sameSocket(b.host, host));
    if (clash) c.problems.push({ path: `${at}/port`, message: `${host}:${l.port} is already bound by ${clash.at} (${clash.host}:${clash.port}): give one of them another port or host` });
    c.bound.push({ host, port: l.port, at });
  }
  if (!Array.isArray(l.destinations)) return [];
  const destNames = new Set<string>();
  return l.destinations.flatMap((d: unknown, di) => {
    const r = isRecord(d) ? resolveDestination(d, `${at}/destinations/${di}`, c.problems, destNames, c.baseDir) : undefined;
    return r ? [r] : [];
  });
}

/** Two binds clash on the same port when their addresses are equal, or one is the wildcard of the other's family. */
function sameSocket(a: string, b: string): boolean {
  if (a === b) return true;
  const v6 = (h: string) => h.includes(':');
  return a === '::' || b === '::' || (a === '0.0.0.0' && !v6(b)) || (b === '0.0.0.0' && !v6(a));
}

function cidrProblem(cidr: unknown, path: string, problems: ConfigProblem[]): void {
  if (typeof cidr !== 'string' || cidr === '') return; // the schema reports it
  const e = checkCidr(cidr);
  if (e) problems.push({ path, message: e.includes(': ') ? e : `${e}: write a network as 10.0.0.0/8 or 2001:db8::/32, or a single address` });
}

/** Problems in the order of the document (keys as written, list entries by index), each once. */
function ordered(problems: ConfigProblem[], raw: unknown): ConfigProblem[] {
  const order = new Map<string, number>();
  const walk = (v: unknown, path: string): void => {
    order.set(path, order.size);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}/${i}`));
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, `${path}/${k}`);
  };
  walk(raw, '');
  const rank = (path: string): number => {
    for (let p = path; ; p = p.slice(0, p.lastIndexOf('/'))) {
      const r = order.get(p);
      if (r !== undefined) return r + (p === path ? 0 : 0.5); // a missing key sorts after what holds it
      if (p === '') return 0;
    }
  };
  const seen = new Set<string>();
  return problems
    .filter((p) => { const k = `${p.path}\0${p.message}`; return !seen.has(k) && !!seen.add(k); })
    .map((p, i) => ({ p, i, r: rank(p.path) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.p);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function resolveDestination(raw: Record<string, unknown>, at: string, problems: ConfigProblem[], names: Set<string>, baseDir: string): DestinationConfig | undefined {
  const common: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) (COMMON_DESTINATION_KEYS.includes(k) ? common : options)[k] = v;
  const kind = typeof common.type === 'string' ? destinationKinds.get(common.type) : undefined;
  if (kind?.batchDefaults && (common.batch === undefined || isRecord(common.batch))) {
    common.batch = { ...kind.batchDefaults, ...(common.batch as object | undefined) };
  }
  const c = validate(CommonDestinationSchema, common, at);
  if ('problems' in c) problems.push(...c.problems);
  if (!kind) {
    if (typeof common.type === 'string' && common.type !== '') problems.push({ path: `${at}/type`, message: `unknown destination type "${common.type}": use one of ${destinationKinds.types().join(', ')}` });
    return undefined;
  }
  const v = validate(kind.options, options, at);
  const o = 'problems' in v || !kind.refine ? v : kind.refine(v.value, at);
  const deadLetterShapeOk = !('problems' in c) || !c.problems.some((p) => p.path.startsWith(`${at}/deadLetter`));
  const deadLetter = isRecord(common.deadLetter) && deadLetterShapeOk ? resolveDeadLetter(common.deadLetter, `${at}/deadLetter`, problems, baseDir) : undefined;
  if ('problems' in o) { problems.push(...o.problems); return undefined; }
  for (const p of kind.check?.(o.value, { baseDir }) ?? []) problems.push({ path: `${at}${p.path}`, message: p.message });
  if ('problems' in c) return undefined;
  const name = c.value.name ?? `${c.value.type}${names.size ? `-${names.size}` : ''}`;
  if (names.has(name)) problems.push({ path: `${at}/name`, message: `duplicate destination name "${name}" on this listener: give each a unique name` });
  names.add(name);
  const { deadLetter: _raw, ...rest } = c.value;
  return { ...rest, name, options: o.value as Record<string, unknown>, ...(deadLetter ? { deadLetter } : {}) };
}

/** Keys of a destination entry that mean nothing for a dead-letter target (it is written directly,
 *  within its kind's limits, with its own retry). */
const NOT_FOR_DEAD_LETTER = ['batch', 'queue', 'inFlight', 'deadLetter', 'buffer', 'sample'];

/** A dead-letter target: the shorthands `{ file }` and `{ sqsQueueUrl }`, or any destination kind. */
function resolveDeadLetter(raw: Record<string, unknown>, at: string, problems: ConfigProblem[], baseDir: string): DestinationConfig | undefined {
  const entry = 'file' in raw ? { type: 'file', path: raw.file }
    : 'sqsQueueUrl' in raw ? { type: 'sqs', queueUrl: raw.sqsQueueUrl, ...(raw.region ? { region: raw.region } : {}), ...(raw.endpoint ? { endpoint: raw.endpoint } : {}) }
    : raw;
  let ok = true;
  for (const key of NOT_FOR_DEAD_LETTER) {
    if (key in entry) { problems.push({ path: `${at}/${key}`, message: 'not used by a dead-letter target (it is written directly, with its own retry): remove it' }); ok = false; }
  }
  const d = resolveDestination({ name: 'dead-letter', ...entry }, at, problems, new Set(), baseDir);
  return ok ? d : undefined;
}

/** A listener protocol: `{ type, …options }`, the options checked by the protocol kind's schema. */
function resolveProtocol(raw: Record<string, unknown>, at: string, problems: ConfigProblem[]): { type: string; options: Record<string, unknown> } | undefined {
  const { type, ...options } = raw as { type: string };
  const kind = listenerProtocolKinds.get(type);
  if (!kind) { problems.push({ path: `${at}/type`, message: `unknown listener protocol "${type}": use one of ${listenerProtocolKinds.types().join(', ')} (or leave protocol out for plain UDP)` }); return undefined; }
  const o = validate(kind.options, options, at);
  if ('problems' in o) { problems.push(...o.problems); return undefined; }
  return { type, options: o.value as Record<string, unknown> };
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

/** Where the built-in default archives, under the working directory. */
export const DEFAULT_ARCHIVE = 'data/packets.ndjson';

/**
 * Built-in local default: the package's own echo handler (found from the package, so it works from
 * any directory and from an installed copy) + an NDJSON archive under the working directory
 * (`data/packets.ndjson`), on 127.0.0.1:5555, admin on 127.0.0.1:9555. Paths are absolute, so the
 * banner and /v1/status say exactly where.
 */
export function defaultConfig(cwd: string = process.cwd()): Record<string, unknown> {
  return {
    listeners: [{
      name: 'default', host: '127.0.0.1', port: 5555,
      destinations: [
        { name: 'echo', type: 'handler', module: join(packageRoot(), 'examples', 'echo-handler.mjs') },
        { name: 'archive', type: 'file', path: resolve(cwd, DEFAULT_ARCHIVE) },
      ],
    }],
  };
}

export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const env = { ...readDotEnv(), ...(opts.env ?? process.env) };
  const baseDir = opts.file ? dirname(resolve(opts.file)) : (opts.defaultBaseDir ?? process.cwd());
  const raw = opts.raw ?? (opts.file ? readConfigFile(opts.file) : env[ENV_PREFIX + 'CONFIG_JSON'] ? configFromEnv(env[ENV_PREFIX + 'CONFIG_JSON']!) : defaultConfig(baseDir));
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
