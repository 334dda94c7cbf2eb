/**
 * Prototype: N gateway workers (node:cluster processes), each binding every listener with
 * SO_REUSEPORT so the kernel spreads client flows over them. Replies and out-of-band packets may
 * leave from any worker: every socket of the group has the same local address and port.
 * With `cluster.redis` each worker is a cluster node (docs/cluster.md) and the Redis directory makes
 * the egress policy agree across workers; without it, workers share recent clients over IPC.
 * See docs/performance.md, "Multi-worker listeners (design)".
 *
 *   primary: const c = startClusterPrimary({ workers: 4, logger, exec: 'dist/app/cli.js', args });
 *            await c.ready; ... await c.stop();
 *   worker:  await runClusterWorker(config, { logger });   // cluster.isWorker
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { ResolvedConfig } from './config/load.js';
import { ConfigError, GatewayError } from '../gateway/errors.js';
import { handleSignals, runGateway, type RunningGateway } from './run.js';
import { selectTransport, transportPreferenceFromEnv, type TransportPreference } from '../net/select.js';
import type { TransportFactory } from '../gateway/extension/transport.js';
import { primaryReloads, workerReloads } from './reload/cluster.js';
import type { ReloadReport } from './reload.js';

/** Environment variable carrying the tag secret the primary shares with its workers. */
export const CLUSTER_SECRET_ENV = 'UDPGW_CLUSTER_SECRET';
const READY = 'udpgw:ready';
/** A worker saw a client: siblings add it to their recent clients, so the egress policy agrees across workers. */
const SEEN = 'udpgw:seen';

interface SeenMessage { type: typeof SEEN; listener: string; address: string }
const isSeen = (m: unknown): m is SeenMessage => (m as { type?: unknown })?.type === SEEN;

/** Wraps a transport so that every bind sets SO_REUSEPORT. */
export function withReusePort(factory: TransportFactory): TransportFactory {
  return { kind: factory.kind, bind: (opts, onBatch, onError) => factory.bind({ ...opts, reusePort: true }, onBatch, onError) };
}

export interface ClusterPrimaryOptions {
  readonly logger: Logger;
  /** Worker count; default: the number of CPUs. */
  readonly workers?: number;
  /** Script the workers run (default: this process's main script) and its arguments. */
  readonly exec?: string;
  readonly args?: readonly string[];
  readonly execArgv?: readonly string[];
  /** Extra environment for the workers. */
  readonly env?: NodeJS.ProcessEnv;
  /** A worker that dies is restarted after this delay (default 1000 ms), at most maxRestarts times in all. */
  readonly restartDelayMs?: number;
  readonly maxRestarts?: number;
}

export interface ClusterPrimary {
  /** Resolves when every first-generation worker reported ready; rejects if one died before. */
  readonly ready: Promise<void>;
  readonly workers: () => readonly Worker[];
  /** SIGTERM to every worker (each drains), then waits for all to exit. Idempotent. */
  stop(): Promise<void>;
  /** Every live worker reloads its config (SIGHUP to the primary; POST /v1/reload on any worker). */
  reload(reason?: string): Promise<ReloadReport>;
}

/** The worker's slot, set by the primary: disk buffers go to <buffer.disk.path>/worker-<slot>. */
export const WORKER_SLOT_ENV = 'UDPGW_WORKER_SLOT';

export function startClusterPrimary(opts: ClusterPrimaryOptions): ClusterPrimary {
  if (!cluster.isPrimary) throw new Error('startClusterPrimary must run in the primary process');
  const count = Math.max(1, opts.workers ?? availableParallelism());
  cluster.setupPrimary({
    ...(opts.exec ? { exec: opts.exec } : {}),
    ...(opts.args ? { args: [...opts.args] } : {}),
    ...(opts.execArgv ? { execArgv: [...opts.execArgv] } : {}),
  });
  const env = { ...opts.env, [CLUSTER_SECRET_ENV]: opts.env?.[CLUSTER_SECRET_ENV] ?? randomBytes(32).toString('base64url') };
  const live = new Set<Worker>();
  const reloads = primaryReloads(() => [...live], opts.logger);
  let stopping: Promise<void> | undefined;
  let restarts = 0;
  let pending = count;
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const ready = new Promise<void>((resolve, reject) => { settle = { resolve, reject }; });
  ready.catch(() => {});

  // Each worker has a slot (0..count-1) that a restarted worker takes over: its disk buffers live there.
  const fork = (first: boolean, slot: number): void => {
    const w = cluster.fork({ ...env, [WORKER_SLOT_ENV]: String(slot) });
    live.add(w);
    let isReady = false;
    w.on('message', (m: { type?: string }) => {
      if (reloads.onMessage(w, m)) return;
      if (isSeen(m)) { for (const other of live) if (other !== w && other.isConnected()) other.send(m); return; }
      if (m?.type !== READY || isReady) return;
      isReady = true;
      opts.logger.info({ worker: w.id, pid: w.process.pid }, 'cluster worker ready');
      if (first && --pending === 0) settle.resolve();
    });
    w.on('exit', (code, signal) => {
      live.delete(w);
      if (stopping) return;
      opts.logger.warn({ worker: w.id, code, signal }, 'cluster worker exited');
      if (first && !isReady) { settle.reject(new Error(`cluster worker ${w.id} exited before it was ready (code ${code}, signal ${signal})`)); return; }
      if (restarts >= (opts.maxRestarts ?? 10)) { opts.logger.error('cluster: too many worker restarts, not restarting'); return; }
      restarts++;
      setTimeout(() => { if (!stopping) fork(false, slot); }, opts.restartDelayMs ?? 1000).unref();
    });
  };
  for (let i = 0; i < count; i++) fork(true, i);

  const stop = (): Promise<void> => {
    stopping ??= Promise.all([...live].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) { resolve(); return; }
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    }))).then(() => {});
    return stopping;
  };
  return { ready, workers: () => [...live], stop, reload: (reason = 'SIGHUP') => reloads.reloadAll(reason) };
}

export interface ClusterWorkerOptions {
  readonly logger: Logger;
  /** Default: UDPGW_TRANSPORT or auto; a transport without SO_REUSEPORT is refused. */
  readonly transport?: TransportFactory;
  readonly preference?: TransportPreference;
  /** Install SIGTERM/SIGINT drain handlers and exit when the primary goes away (default true). */
  readonly signals?: boolean;
  /** Reads the config again for a reload (the primary's reload message, POST /v1/reload). */
  readonly reloadConfig?: () => ResolvedConfig;
}

/** Runs one gateway in a cluster worker: shared secret, fixed ports, every listener with reusePort. */
export async function runClusterWorker(config: ResolvedConfig, opts: ClusterWorkerOptions): Promise<RunningGateway> {
  checkFixedPorts(config);
  const transport = opts.transport ?? selectTransport(opts.preference ?? transportPreferenceFromEnv() ?? 'auto', opts.logger);
  if (transport.kind === 'dgram') {
    throw new GatewayError('UGW_ERR_LISTENER_BIND', 'cluster workers need SO_REUSEPORT: the native transport (node:dgram on Node 20 has only SO_REUSEADDR, so one worker would receive everything)');
  }
  const shared = (c: ResolvedConfig): ResolvedConfig => {
    const secret = c.secret ?? process.env[CLUSTER_SECRET_ENV];
    return { ...c, ...(secret ? { secret } : {}) };
  };
  const slot = Number(process.env[WORKER_SLOT_ENV]);
  const load = opts.reloadConfig;
  let adminReload: (() => Promise<ReloadReport>) | undefined;
  // Cluster mode: each worker is a node of its own (<nodeId or host>-w<slot>), and the Redis directory
  // replaces the IPC 'seen' messages; without Redis, siblings share recent clients over IPC.
  const node = (c: ResolvedConfig): ResolvedConfig => (c.cluster && Number.isInteger(slot) && c.cluster.nodeId ? { ...c, cluster: { ...c.cluster, nodeId: `${c.cluster.nodeId}-w${slot}` } } : c);
  const running = await runGateway(node(shared(config)), {
    logger: opts.logger, transport: withReusePort(transport), ...(Number.isInteger(slot) ? { workerSlot: slot } : {}),
    ...(load ? { reloadConfig: () => node(shared(withFixedPorts(load()))) } : {}),
    adminReload: () => adminReload!(),
    ...(config.cluster ? {} : { reloadHooks: { reloaded: () => shareSeen(running) } }), // listeners a reload added share too
  });
  adminReload = workerReloads((reason) => running.reload(reason));
  if (!config.cluster) shareRecentClients(running);
  if (opts.signals ?? true) {
    handleSignals(running, opts.logger);
    process.once('disconnect', () => { void running.stop().finally(() => process.exit(0)); });
  }
  process.send?.({ type: READY, listeners: [...running.gateway.listeners.values()].map((l) => l.local) });
  return running;
}

/** For a reload: port 0 is a config problem (with its path), the running config is kept. */
function withFixedPorts(config: ResolvedConfig): ResolvedConfig {
  const problems = config.listeners.flatMap((l, i) => (l.port === 0 ? [{ path: `/listeners/${i}/port`, message: 'cluster workers (--workers) need fixed listener ports: set a port other than 0' }] : []));
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function checkFixedPorts(config: ResolvedConfig): void {
  const zero = config.listeners.filter((l) => l.port === 0).map((l) => l.name);
  if (zero.length) throw new GatewayError('UGW_ERR_LISTENER_BIND', `cluster workers need fixed listener ports; port 0 on: ${zero.join(', ')}`);
}

/** Each worker tells its siblings (through the primary) which clients it has seen, and learns theirs. */
function shareRecentClients(running: RunningGateway): void {
  if (!process.send) return;
  const listeners = running.gateway.listeners;
  shareSeen(running);
  process.on('message', (m: unknown) => {
    if (isSeen(m)) listeners.get(m.listener)?.recentClients.remember(m.address, Date.now());
  });
}

/** Every listener tells the primary about clients it sees (idempotent: after a reload too). */
function shareSeen(running: RunningGateway | undefined): void {
  if (!process.send || !running) return;
  for (const [name, l] of running.gateway.listeners) {
    l.recentClients.onShare = (address) => { process.send?.({ type: SEEN, listener: name, address } satisfies SeenMessage); };
  }
}
