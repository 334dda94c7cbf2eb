/**
 * Cluster mode for one gateway (config `cluster: { redis, nodeId?, keyPrefix? }`): the Redis bus,
 * this node's flow directory, and the cluster egress that packet sources and the admin API use.
 * ioredis is imported only here, and this module only when a config has `cluster`.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/load.js';
import type { Egress } from '../../gateway/egress.js';
import type { Metrics } from '../../gateway/metrics.js';
import type { TagCodec } from '../../gateway/tag.js';
import type { SessionSelector } from '../../gateway/routing/session-control.js';
import type { ClusterBus } from '../../gateway/cluster/bus.js';
import { FlowDirectory } from '../../gateway/cluster/flow-directory.js';
import { ClusterEgress } from '../../gateway/cluster/cluster-egress.js';
import { createRedisBus } from './redis-bus.js';

export interface ClusterNode {
  readonly bus: ClusterBus;
  readonly directory: FlowDirectory;
  readonly egress: ClusterEgress;
  close(): Promise<void>;
}

export interface ClusterNodeDeps {
  readonly egress: Egress;
  readonly codec: TagCodec;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly endSessions: (sel: SessionSelector, destination?: string) => number;
  /** A cluster worker's slot: the default node id is <host>-w<slot>. */
  readonly workerSlot?: number;
}

export function defaultNodeId(workerSlot?: number): string {
  return workerSlot === undefined ? `${hostname()}-${process.pid}` : `${hostname()}-w${workerSlot}`;
}

export async function startClusterNode(config: ResolvedConfig, deps: ClusterNodeDeps): Promise<ClusterNode> {
  const c = config.cluster!;
  const logger = deps.logger.child({ component: 'cluster' });
  const nodeId = c.nodeId ?? defaultNodeId(deps.workerSlot);
  const bus = await createRedisBus({ url: c.redis, nodeId, prefix: c.keyPrefix, heartbeatMs: c.heartbeatMs, lookupTimeoutMs: c.lookupTimeoutMs });
  let egress: ClusterEgress | undefined = undefined;
  const directory = new FlowDirectory({
    bus, prefix: c.keyPrefix, ttlMs: config.egress.recentClientSeconds * 1000, flushMs: c.flushMs,
    maxPending: c.maxPendingWrites, maxFlows: config.egress.maxRecentClients, ownerCacheMs: c.ownerCacheMs,
    count: (reason, n) => egress?.countError(reason, n),
  });
  egress = new ClusterEgress({ bus, directory, egress: deps.egress, codec: deps.codec, metrics: deps.metrics, logger, endSessions: deps.endSessions });
  // Redis back (perhaps restarted empty): this node's flows are written again, bounded by the queue.
  bus.onState((up) => { if (up) directory.requeueAll(); });
  if (!bus.up) {
    egress.countError('redis-down');
    logger.warn({ nodeId }, 'cluster: Redis unreachable at start; serving local clients only (reconnecting with backoff)');
  } else {
    logger.info({ nodeId, prefix: c.keyPrefix }, 'cluster: joined');
  }
  if (config.egress.recentClientSeconds > 0) directory.start();
  return {
    bus, directory, egress,
    close: async () => { await directory.flush(); await directory.close(); await bus.close(); },
  };
}
