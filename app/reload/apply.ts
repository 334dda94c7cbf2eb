/**
 * Applies a config diff to a running gateway, in two phases:
 *
 *   prepare  build every new destination (runner, dead-letter, disk buffer) and bind every new
 *            socket (added listeners, rebound ones on another address). A failure closes what was
 *            made and leaves the running gateway as it was.
 *   commit   swap each listener's fan-out lanes, replace rebound sockets (one on the same address:
 *            closed, then bound again), close removed listeners, then drain every retired runner
 *            like at shutdown (within shutdownDeadlineMs) and close its destinations.
 *
 * Unchanged listeners keep their socket, and unchanged destinations their runner, queue and
 * sessions, whatever else changes (a rebound listener keeps its unchanged destinations too).
 */
import type { Logger } from 'pino';
import type { ResolvedConfig, ResolvedListener } from '../config/load.js';
import type { Listener } from '../../gateway/listener.js';
import { adoptDestination, buildDestination, createListener, useProtocol, type DestinationParts, type Gateway } from '../gateway.js';
import type { ConfigDiff } from './diff.js';
import { resolve as resolvePath } from 'node:path';
import { GatewayError } from '../../gateway/errors.js';

export interface Applied {
  /** Problems met after the point of no return (a listener could not bind its address again). */
  readonly problems: string[];
  readonly drained: { id: string; queued: number }[];
}

const id = (listener: string, name: string) => `${listener}/${name}`;

/** Throws (UGW_ERR_DESTINATION_CREATE, UGW_ERR_LISTENER_BIND, …) when preparing fails: nothing was changed. */
export async function applyDiff(gw: Gateway, next: ResolvedConfig, diff: ConfigDiff, effective: ResolvedConfig): Promise<Applied> {
  const prepared = await prepare(gw, next, diff);
  return commit(gw, next, diff, effective, prepared);
}

interface Prepared {
  readonly built: Map<string, DestinationParts>;
  /** Each listener's lanes as the new config orders them. */
  readonly plan: Map<string, DestinationParts[]>;
  /** New listeners, bound (started) or to bind at commit (same address as the socket they replace). */
  readonly fresh: Map<string, { listener: Listener; bound: boolean }>;
}

async function prepare(gw: Gateway, next: ResolvedConfig, diff: ConfigDiff): Promise<Prepared> {
  const built = new Map<string, DestinationParts>();
  const fresh = new Map<string, { listener: Listener; bound: boolean }>();
  const rebuild = new Set([...diff.destinations.added, ...diff.destinations.changed]);
  for (const changed of diff.destinations.changed) refuseSharedBuffer(gw, next, changed);
  try {
    for (const lc of next.listeners) {
      for (const dc of lc.destinations) if (rebuild.has(id(lc.name, dc.name))) built.set(id(lc.name, dc.name), await buildDestination(gw, lc.name, dc));
    }
    const plan = new Map(next.listeners.map((lc) => [lc.name, lc.destinations.map((dc) => built.get(id(lc.name, dc.name))
      ?? gw.lanes.get(lc.name)!.find((p) => p.config.name === dc.name)!)]));
    for (const name of [...diff.listeners.added, ...diff.listeners.rebound]) {
      const lc = next.listeners.find((l) => l.name === name)!;
      const old = gw.listeners.get(name);
      const listener = createListener(gw, withFormatter(lc, next), old?.recentClients);
      fresh.set(name, { listener, bound: false });
      if (lc.protocol) await useProtocol(gw, listener, lc.protocol, listener.logger);
      if (old && sameAddress(old, lc)) continue; // bound at commit, once the old socket is closed
      await listener.start(plan.get(name)!.map((p) => p.lane));
      fresh.get(name)!.bound = true;
    }
    return { built, plan, fresh };
  } catch (err) {
    await Promise.allSettled([...fresh.values()].map((f) => f.listener.close()));
    await Promise.allSettled([...built.values()].map((p) => closeParts(p, 0)));
    throw err;
  }
}

/**
 * A changed destination with a disk buffer on the same directory: the old runner holds the
 * directory's lock until it has drained, and the new one cannot open it before. Refused, with the
 * way out, rather than leaving a window in which that destination's packets are lost.
 */
function refuseSharedBuffer(gw: Gateway, next: ResolvedConfig, changedId: string): void {
  const [listener, name] = [changedId.slice(0, changedId.indexOf('/')), changedId.slice(changedId.indexOf('/') + 1)];
  const old = gw.lanes.get(listener)?.find((p) => p.config.name === name);
  const dc = next.listeners.find((l) => l.name === listener)?.destinations.find((d) => d.name === name);
  const oldPath = old?.config.buffer?.disk.path, newPath = dc?.buffer?.disk.path;
  if (!oldPath || !newPath || resolvePath(gw.config.baseDir, oldPath) !== resolvePath(next.baseDir, newPath)) return;
  throw new GatewayError('UGW_ERR_RELOAD_FAILED', `destination ${changedId} changed, and its disk buffer ${resolvePath(next.baseDir, newPath)} stays locked by the running one until it has drained: restart to change a disk-buffered destination, or give the new version another buffer.disk.path (the old directory's packets are then sent on the next start that uses it)`);
}

/** The address the running socket holds: the new one can only bind once the old one is closed. */
function sameAddress(running: Listener, next: ResolvedListener): boolean {
  return next.port !== 0 && running.local.port === next.port && running.cfg.host === next.host;
}

function withFormatter(lc: ResolvedListener, c: ResolvedConfig): ResolvedListener {
  return lc.formatter || !c.formatter ? lc : { ...lc, formatter: c.formatter };
}

async function commit(gw: Gateway, next: ResolvedConfig, diff: ConfigDiff, effective: ResolvedConfig, p: Prepared): Promise<Applied> {
  const problems: string[] = [];
  const retired: DestinationParts[] = [];
  for (const parts of p.built.values()) adoptDestination(gw, parts);
  for (const name of diff.listeners.removed) {
    const old = gw.listeners.get(name)!;
    gw.listeners.delete(name);
    gw.egress.detach(name);
    old.pause();
    await old.close();
    retired.push(...gw.lanes.get(name)!);
    gw.lanes.delete(name);
  }
  for (const [name, f] of p.fresh) {
    const old = gw.listeners.get(name);
    if (old) { old.pause(); await old.close(); }
    if (!f.bound) {
      try { await f.listener.start(p.plan.get(name)!.map((x) => x.lane)); } catch (err) {
        problems.push((err as Error).message);
        gw.logger.error({ err, listener: name }, 'reload: listener could not bind its address again; it is down until the next reload or restart');
        gw.listeners.delete(name);
        gw.egress.detach(name);
        continue;
      }
    }
    gw.listeners.set(name, f.listener);
    gw.egress.attach(f.listener);
    f.listener.logger.info({ address: f.listener.local, transport: f.listener.transportKind, destinations: p.plan.get(name)!.map((x) => x.config.name) }, 'listening');
  }
  for (const [name, lanes] of p.plan) {
    const before = gw.lanes.get(name) ?? [];
    retired.push(...before.filter((x) => !lanes.includes(x)));
    gw.lanes.set(name, lanes);
    if (!p.fresh.has(name)) gw.listeners.get(name)?.replaceLanes(lanes.map((x) => x.lane));
  }
  gw.config = effective;
  const deadline = next.shutdownDeadlineMs;
  const drained = retired.map((x) => ({ id: x.runner.id, queued: x.runner.queued }));
  const replaced = new Set([...p.plan.values()].flat().map((x) => x.runner.id)); // a changed destination's new runner keeps the series
  await Promise.allSettled(retired.map((x) => retire(gw, x, deadline, !replaced.has(x.runner.id))));
  return { problems, drained };
}

/** A removed or replaced destination: drained like at shutdown, closed, forgotten. */
async function retire(gw: Gateway, parts: DestinationParts, deadlineMs: number, gone: boolean): Promise<void> {
  await closeParts(parts, deadlineMs, gw.logger);
  gw.metrics.forget(parts.runner, gone ? parts.runner.id : undefined);
  const drop = <T>(list: T[], items: readonly T[]) => { for (const x of items) { const i = list.indexOf(x); if (i >= 0) list.splice(i, 1); } };
  drop(gw.runners, [parts.runner]);
  drop(gw.destinations, parts.owned);
  if (parts.buffer) drop(gw.buffers, [parts.buffer]);
}

async function closeParts(parts: DestinationParts, deadlineMs: number, logger?: Logger): Promise<void> {
  // The runner's drain closes its disk buffer.
  try { await parts.runner.drain(deadlineMs); } catch (err) { logger?.error({ err, destination: parts.runner.id }, 'reload: draining a retired destination failed'); }
  await Promise.allSettled(parts.owned.map((d) => d.close?.()));
}
