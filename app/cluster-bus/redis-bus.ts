/**
 * The cluster bus (gateway/cluster/bus.ts) on Redis or Valkey, with ioredis:
 *   - directory: `<prefix>c:<listener>:<address>:<port>` → node id, SET … PX <window>, pipelined;
 *   - liveness: `<prefix>node:<id>` → its channel, PX 3 × heartbeat;
 *   - forwarding: PUBLISH `<prefix>fwd:<id>` (one subscriber: the node), control: `<prefix>ctl`.
 * Two connections: commands, and a subscriber (a subscribed connection runs no other command).
 * Commands fail at once while disconnected (no offline queue, no retries per request) and after
 * lookupTimeoutMs; reconnection backs off exponentially (100 ms doubling to 5 s). Up/down is
 * reported once per transition. Counts its own round trips and commands for /v1/status.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { ClusterBus, OwnershipWrite } from '../../gateway/cluster/bus.js';
import { controlChannel, nodeChannel, nodeKey } from '../../gateway/cluster/bus.js';

export interface RedisBusOptions {
  readonly url: string;
  readonly nodeId: string;
  readonly prefix: string;
  readonly heartbeatMs: number;
  readonly lookupTimeoutMs: number;
  readonly reconnect?: { readonly minDelayMs: number; readonly maxDelayMs: number };
}

/** Redis down at start is not an error; a server that answers should be in use before the first packet: wait, bounded. */
const STARTUP_WAIT_MS = 2_000;

export async function createRedisBus(o: RedisBusOptions): Promise<ClusterBus> {
  const messageHandlers: ((m: Buffer) => void)[] = [];
  const stateHandlers: ((up: boolean, reason?: string) => void)[] = [];
  const stats = { roundTrips: 0, commands: 0, published: 0, received: 0, reconnects: 0 };
  const reconnect = o.reconnect ?? { minDelayMs: 100, maxDelayMs: 5_000 };
  const options: RedisOptions = {
    enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: o.lookupTimeoutMs, connectTimeout: 2_000,
    enableAutoPipelining: true, // concurrent lookups (one document's packets) share a round trip
    retryStrategy: (times) => Math.min(reconnect.minDelayMs * 2 ** Math.min(times - 1, 16), reconnect.maxDelayMs),
    ...(o.url.startsWith('rediss:') ? { tls: {} } : {}),
  };
  const cmd = new Redis(o.url, options);
  const sub = new Redis(o.url, { ...options, autoResubscribe: false, enableAutoPipelining: false, commandTimeout: undefined });
  const channels = [nodeChannel(o.prefix, o.nodeId), controlChannel(o.prefix)];

  // Up: both connections ready and subscribed. Down: either one lost. One report per transition.
  let up = false, cmdReady = false, subReady = false, closed = false, lastError = '';
  const setState = (next: boolean, reason?: string): void => {
    if (next === up || closed) return;
    up = next;
    if (!next) stats.reconnects++;
    for (const h of stateHandlers) h(next, reason);
  };
  const update = (reason?: string): void => setState(cmdReady && subReady, reason);
  cmd.on('ready', () => { cmdReady = true; update(); void heartbeat(); });
  sub.on('ready', () => {
    // Subscribe on every (re)connection: without an offline queue ioredis does not resubscribe for us.
    sub.subscribe(...channels).then(() => { subReady = true; update(); }, (err: Error) => { lastError = err.message; });
  });
  const lost = (which: 'cmd' | 'sub') => (): void => {
    if (which === 'cmd') cmdReady = false; else subReady = false;
    update(lastError || 'connection closed');
  };
  cmd.on('close', lost('cmd'));
  sub.on('close', lost('sub'));
  const onError = (err: Error): void => { lastError = err.message; };
  cmd.on('error', onError);
  sub.on('error', onError);
  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    const ch = channel.toString();
    if (ch !== channels[0] && ch !== channels[1]) return;
    stats.received++;
    for (const h of messageHandlers) h(message);
  });

  async function heartbeat(): Promise<void> {
    if (!cmdReady || closed) return;
    stats.roundTrips++; stats.commands++;
    await cmd.set(nodeKey(o.prefix, o.nodeId), channels[0]!, 'PX', o.heartbeatMs * 3).catch(() => {});
  }
  const beat = setInterval(() => { void heartbeat(); }, o.heartbeatMs);
  beat.unref();

  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, STARTUP_WAIT_MS);
    t.unref();
    stateHandlers.push((isUp) => { if (isUp) { clearTimeout(t); resolve(); } });
  });
  stateHandlers.length = 0;

  const bus: ClusterBus = {
    nodeId: o.nodeId,
    get up() { return up; },
    async writeOwnership(entries: readonly OwnershipWrite[], ttlMs: number) {
      if (entries.length === 0) return;
      const p = cmd.pipeline();
      for (const e of entries) p.set(e.key, o.nodeId, 'PX', Math.max(1, Math.round(ttlMs)));
      stats.roundTrips++; stats.commands += entries.length;
      const results = await p.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('pipeline not executed');
    },
    async owners(keys: readonly string[]) {
      stats.roundTrips++; stats.commands++;
      return keys.length === 1 ? [await cmd.get(keys[0]!)] : cmd.mget(...keys);
    },
    async forward(nodeId: string, message: Buffer) {
      stats.roundTrips++; stats.commands++; stats.published++;
      return cmd.publish(nodeChannel(o.prefix, nodeId), message);
    },
    async broadcast(message: Buffer) {
      stats.roundTrips++; stats.commands++; stats.published++;
      return cmd.publish(controlChannel(o.prefix), message);
    },
    onMessage(h) { messageHandlers.push(h); },
    onState(h) { stateHandlers.push(h); },
    status: () => ({ redis: redact(o.url), up, connection: cmd.status, subscriber: sub.status, ...stats }),
    async close() {
      closed = true;
      clearInterval(beat);
      if (cmdReady) await cmd.del(nodeKey(o.prefix, o.nodeId)).catch(() => {});
      cmd.disconnect();
      sub.disconnect();
    },
  };
  return bus;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
