/**
 * What a reload changes, from two resolved configs. Pure: entries are compared by a canonical JSON
 * (keys sorted), listeners by name, destinations by listener/name.
 *
 *   listener added / removed            bind a new socket / close one
 *   listener rebound                    anything but its destinations changed (host, port, allow,
 *                                       rateLimit, formatter, protocol, …): a new socket
 *   destination added / removed /       a new runner / drain the old one like at shutdown / both
 *   changed
 *   anything else unchanged             untouched: the same socket, sessions, queues
 *
 * Global keys that are not applied live are listed in `restartRequired` (the running value stays).
 */
import { createHash } from 'node:crypto';
import type { ResolvedConfig, ResolvedListener } from '../config/load.js';
import type { DestinationConfig } from '../../gateway/config/schema.js';

/** Top-level keys a reload cannot apply to a running process: it keeps the running value and says so. */
export const RESTART_REQUIRED_KEYS = ['secret', 'previousSecrets', 'replyWindowSeconds', 'transport', 'log', 'admin', 'egress', 'packetSources', 'cluster'] as const;
/** Top-level keys a reload applies (listeners and their destinations; formatter through the listeners). */
export const LIVE_KEYS = ['listeners', 'formatter', 'shutdownDeadlineMs', 'baseDir'] as const;

export interface ConfigDiff {
  readonly listeners: { readonly added: string[]; readonly removed: string[]; readonly rebound: string[]; readonly unchanged: string[] };
  /** "listener/destination" ids. */
  readonly destinations: { readonly added: string[]; readonly removed: string[]; readonly changed: string[]; readonly unchanged: string[] };
  /** Keys whose new value needs a restart (secrets shown by name only). */
  readonly restartRequired: string[];
  readonly shutdownDeadlineMs?: { readonly from: number; readonly to: number };
}

/** JSON with object keys sorted at every level: equal for equal values, whatever the key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

/** A short fingerprint of a config (sha256 of its canonical JSON, 12 hex digits), secrets included but not revealed. */
export function configHash(c: ResolvedConfig): string {
  return createHash('sha256').update(canonicalJson(c)).digest('hex').slice(0, 12);
}

/** A listener without its destinations, its formatter as in effect (the global default filled in). */
function socketPart(l: ResolvedListener, c: ResolvedConfig): string {
  const { destinations: _d, ...rest } = l;
  return canonicalJson({ ...rest, formatter: l.formatter ?? c.formatter ?? 'base64' });
}

function destinationPart(d: DestinationConfig, c: ResolvedConfig): string {
  return canonicalJson({ d, baseDir: c.baseDir }); // relative module and file paths resolve against baseDir
}

export function diffConfigs(from: ResolvedConfig, to: ResolvedConfig): ConfigDiff {
  const l = { added: [] as string[], removed: [] as string[], rebound: [] as string[], unchanged: [] as string[] };
  const d = { added: [] as string[], removed: [] as string[], changed: [] as string[], unchanged: [] as string[] };
  const before = new Map(from.listeners.map((x) => [x.name, x]));
  const after = new Map(to.listeners.map((x) => [x.name, x]));
  for (const [name, old] of before) {
    if (!after.has(name)) { l.removed.push(name); d.removed.push(...old.destinations.map((x) => `${name}/${x.name}`)); }
  }
  for (const [name, next] of after) {
    const old = before.get(name);
    if (!old) { l.added.push(name); d.added.push(...next.destinations.map((x) => `${name}/${x.name}`)); continue; }
    (socketPart(old, from) === socketPart(next, to) ? l.unchanged : l.rebound).push(name);
    const olds = new Map(old.destinations.map((x) => [x.name, x]));
    for (const x of next.destinations) {
      const o = olds.get(x.name);
      const id = `${name}/${x.name}`;
      if (!o) d.added.push(id);
      else (destinationPart(o, from) === destinationPart(x, to) ? d.unchanged : d.changed).push(id);
    }
    for (const x of old.destinations) if (!next.destinations.some((n) => n.name === x.name)) d.removed.push(`${name}/${x.name}`);
  }
  const restartRequired = RESTART_REQUIRED_KEYS.filter((k) => canonicalJson(from[k] ?? null) !== canonicalJson(to[k] ?? null)).map(String);
  return {
    listeners: l, destinations: d, restartRequired,
    ...(from.shutdownDeadlineMs !== to.shutdownDeadlineMs ? { shutdownDeadlineMs: { from: from.shutdownDeadlineMs, to: to.shutdownDeadlineMs } } : {}),
  };
}

/** Nothing to apply (restart-required keys aside). */
export function isEmptyDiff(d: ConfigDiff): boolean {
  return !d.listeners.added.length && !d.listeners.removed.length && !d.listeners.rebound.length
    && !d.destinations.added.length && !d.destinations.removed.length && !d.destinations.changed.length && !d.shutdownDeadlineMs;
}

/** The config a reload puts in effect: the new one, with the running value of every restart-required key. */
export function effectiveConfig(running: ResolvedConfig, next: ResolvedConfig): ResolvedConfig {
  const out: Record<string, unknown> = { ...next };
  for (const k of RESTART_REQUIRED_KEYS) {
    if (k in running) out[k] = running[k]; else delete out[k];
  }
  return Object.freeze(out) as unknown as ResolvedConfig;
}

/** One line for the log: "listeners +a -b ~c; destinations +x -y ~z; restart required for: secret". */
export function summarize(d: ConfigDiff): string {
  const part = (label: string, groups: [string, string[]][]) => {
    const s = groups.filter(([, xs]) => xs.length).map(([sign, xs]) => xs.map((x) => `${sign}${x}`).join(' ')).join(' ');
    return s ? `${label} ${s}` : '';
  };
  const parts = [
    part('listeners', [['+', d.listeners.added], ['-', d.listeners.removed], ['~', d.listeners.rebound]]),
    part('destinations', [['+', d.destinations.added], ['-', d.destinations.removed], ['~', d.destinations.changed]]),
    d.shutdownDeadlineMs ? `shutdownDeadlineMs ${d.shutdownDeadlineMs.from} -> ${d.shutdownDeadlineMs.to}` : '',
    d.restartRequired.length ? `restart required for: ${d.restartRequired.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'no changes';
}
