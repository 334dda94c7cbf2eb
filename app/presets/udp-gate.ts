/**
 * `udp-gateway start --preset udp-gate`: a drop-in for the Redis-driven Go UDP proxy ("udp-gate")
 * in front of Minecraft Bedrock servers. Its configuration is environment variables, read from
 * `.env` too (the environment wins), with its defaults:
 *   PROXY_ADDR                 0.0.0.0:19132        the listener (":19132" and "[::]:19132" too)
 *   REDIS_ADDR                 127.0.0.1:6379       the redis router's server
 *   REDIS_PASSWORD / REDIS_DB  "" / 0
 *   REDIS_BACKEND_KEY          udp_gate:backend     read once per new client
 *   REDIS_DISCONNECT_CHANNEL   udp_gate:disconnect  "ip:port" or an upstream port ends a session
 *   SESSION_IDLE_TIMEOUT_SECS  60
 *   WORKER_COUNT               (goroutines there)   processes here: SO_REUSEPORT workers, at most one per CPU
 *   LISTENER_COUNT             (later versions)     the same as WORKER_COUNT
 *   QUEUE_SIZE                 4096                 the destination's queue
 *   BATCH_SIZE                 (later versions)     the destination's batch
 * UDPGW_* variables still apply on top (admin token, log level, …).
 */
import { cpus } from 'node:os';
import { ConfigError } from '../../gateway/errors.js';

export interface Preset {
  /** The raw config (validated like a file's). */
  readonly config: Record<string, unknown>;
  /** Processes sharing the listener port (--workers); 1 when not asked for. */
  readonly workers: number;
}

export function udpGatePreset(env: Record<string, string | undefined>): Preset {
  const problems: { path: string; message: string }[] = [];
  const get = (name: string, dflt: string) => (env[name] !== undefined && env[name] !== '' ? env[name]! : dflt);
  const int = (name: string, dflt: number, min: number) => {
    const text = get(name, String(dflt));
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) { problems.push({ path: name, message: `must be a whole number >= ${min}, got ${JSON.stringify(text)}` }); return dflt; }
    return n;
  };
  const listen = hostPort(get('PROXY_ADDR', '0.0.0.0:19132'), '0.0.0.0');
  if (!listen) problems.push({ path: 'PROXY_ADDR', message: `must be host:port, :port or [ipv6]:port, got ${JSON.stringify(env.PROXY_ADDR)}` });
  const redis = hostPort(get('REDIS_ADDR', '127.0.0.1:6379'), '127.0.0.1');
  if (!redis) problems.push({ path: 'REDIS_ADDR', message: `must be host:port, got ${JSON.stringify(env.REDIS_ADDR)}` });
  const db = int('REDIS_DB', 0, 0);
  const idle = int('SESSION_IDLE_TIMEOUT_SECS', 60, 1);
  const queue = int('QUEUE_SIZE', 4096, 1);
  const wanted = env.WORKER_COUNT || env.LISTENER_COUNT ? int(env.WORKER_COUNT ? 'WORKER_COUNT' : 'LISTENER_COUNT', 1, 1) : 1;
  const batch = env.BATCH_SIZE ? int('BATCH_SIZE', 64, 1) : undefined;
  if (problems.length) throw new ConfigError(problems.map((p) => ({ path: `env ${p.path}`, message: p.message })));
  const password = get('REDIS_PASSWORD', '');
  const url = `redis://${redis!.host.includes(':') ? `[${redis!.host}]` : redis!.host}:${redis!.port}`;
  return {
    workers: Math.max(1, Math.min(wanted, cpus().length)),
    config: {
      listeners: [{
        name: 'udp-gate', host: listen!.host, port: listen!.port,
        destinations: [{
          name: 'backend', type: 'udp', idleTimeoutMs: idle * 1000, queue: { maxPackets: queue }, ...(batch ? { batch: { maxPackets: batch } } : {}),
          router: {
            type: 'redis', url, db, ...(password ? { password } : {}),
            backendKey: get('REDIS_BACKEND_KEY', 'udp_gate:backend'), disconnectChannel: get('REDIS_DISCONNECT_CHANNEL', 'udp_gate:disconnect'),
          },
        }],
      }],
    },
  };
}

function hostPort(text: string, anyHost: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]*):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: m[1] || anyHost, port };
}

export const PRESETS: Record<string, (env: Record<string, string | undefined>) => Preset> = { 'udp-gate': udpGatePreset };
