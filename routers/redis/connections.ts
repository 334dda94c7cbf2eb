/**
 * Redis connections shared by every redis router of the process: one command connection per
 * server (url, user, db, TLS) and one subscriber connection per server and channel, however many
 * destinations, listeners and sessions use them. Reconnects with exponential backoff (ioredis's
 * retryStrategy); commands fail at once while disconnected (no offline queue), so a lookup never
 * waits for a reconnect.
 */
import { Redis, type RedisOptions } from 'ioredis';

export interface ServerOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
  readonly lookupTimeoutMs: number;
  readonly reconnect: { readonly minDelayMs: number; readonly maxDelayMs: number };
}

interface Shared<T> { value: T; users: number }
const commands = new Map<string, Shared<Redis>>();
const subscribers = new Map<string, Shared<{ redis: Redis; handlers: Set<(message: string) => void>; ready: Promise<void> }>>();

function keyOf(o: ServerOptions): string {
  return JSON.stringify([o.url, o.username ?? '', o.password ?? '', o.db, o.tls]);
}

function connect(o: ServerOptions, onError: (err: Error) => void, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = { ...extra,
    db: o.db, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: o.lookupTimeoutMs,
    retryStrategy: (times) => Math.min(o.reconnect.minDelayMs * 2 ** Math.min(times - 1, 16), o.reconnect.maxDelayMs),
    ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}),
    ...(o.tls || o.url.startsWith('rediss:') ? { tls: {} } : {}),
  };
  const r = new Redis(o.url, options);
  r.on('error', onError);
  return r;
}

/** The process's command connection to this server; release() when done. */
export function commandConnection(o: ServerOptions, onError: (err: Error) => void): { redis: Redis; release(): Promise<void> } {
  const key = keyOf(o);
  let s = commands.get(key);
  if (!s) commands.set(key, s = { value: connect(o, onError), users: 0 });
  s.users++;
  const shared = s;
  return {
    redis: s.value,
    release: async () => {
      if (--shared.users > 0) return;
      commands.delete(key);
      shared.value.disconnect();
    },
  };
}

/** One subscription per server and channel per process; `handler` hears every message. */
export function subscribe(o: ServerOptions, channel: string, handler: (message: string) => void, onError: (err: Error) => void): { ready: Promise<void>; release(): Promise<void> } {
  const key = `${keyOf(o)} ${channel}`;
  let s = subscribers.get(key);
  if (!s) {
    const redis = connect(o, onError, { autoResubscribe: false });
    const handlers = new Set<(message: string) => void>();
    redis.on('message', (ch: string, message: string) => { if (ch === channel) for (const h of handlers) h(message); });
    // Subscribe on every (re)connection: without an offline queue a SUBSCRIBE sent before the
    // connection is ready fails, and ioredis resubscribes only channels it had subscribed.
    const ready = new Promise<void>((settle) => {
      redis.once('error', () => settle());
      redis.on('ready', () => { redis.subscribe(channel).then(() => settle(), (err: Error) => { onError(err); settle(); }); });
    });
    subscribers.set(key, s = { value: { redis, handlers, ready }, users: 0 });
  }
  s.users++;
  s.value.handlers.add(handler);
  const shared = s;
  return {
    /** Settles once subscribed, or once the first attempt failed (Redis down). */
    ready: shared.value.ready,
    release: async () => {
      shared.value.handlers.delete(handler);
      if (--shared.users > 0) return;
      subscribers.delete(key);
      shared.value.redis.disconnect();
    },
  };
}

/** Subscriber connections open in this process (one per server and channel). */
export function subscriptionCount(): number {
  return subscribers.size;
}
