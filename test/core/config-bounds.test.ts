/**
 * Every bound and enumeration of the config schema (gateway/config/schema.ts), one value past it each,
 * with the exact problem an operator reads: the path, the allowed range or values, and the key's
 * description where the schema gives one. The expected texts are the schema's documented limits.
 */
import { describe, expect, it } from 'vitest';
import '../support/memory-destination.js';
import { resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';

const base = () => ({ listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory' }] }] });
const l = (x: object) => ({ listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory' }], ...x }] });
const c = (x: object) => ({ ...base(), cluster: { redis: 'redis://127.0.0.1:6379', ...x } });
const X129 = 'x'.repeat(129);
const d = (x: object) => ({ listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory', ...x }] }] });

function problems(raw: unknown): { path: string; message: string }[] {
  try { resolveConfig(raw, '/tmp'); } catch (e) { if (e instanceof ConfigError) return [...e.problems]; throw e; }
  return [];
}

// [name, config, problems]
const cases: [string, unknown, { path: string; message: string }[]][] = [
  // cluster (docs/cluster.md): every bound, the pattern, an unknown key
  ["c({ redis: '' })", c({ redis: '' }), [{"path":"/cluster/redis","message":"must be at least 1 characters long, got \"\" (redis://host:port or rediss://host:port (TLS); Valkey and ElastiCache speak the same protocol): set a value in that range"}]],
  ["c({ nodeId: '' })", c({ nodeId: '' }), [{"path":"/cluster/nodeId","message":"must be from 1 to 128 characters long, got \"\" (this node's name in the cluster; default: hostname-pid (hostname-w<slot> for --workers)): set a value in that range"},{"path":"/cluster/nodeId","message":"must be this node's name in the cluster; default: hostname-pid (hostname-w<slot> for --workers), got \"\""}]],
  ["c({ nodeId: X129 })", c({ nodeId: X129 }), [{"path":"/cluster/nodeId","message":`must be from 1 to 128 characters long, got "${X129}" (this node's name in the cluster; default: hostname-pid (hostname-w<slot> for --workers)): set a value in that range`}]],
  ["c({ nodeId: 'bad id' })", c({ nodeId: 'bad id' }), [{"path":"/cluster/nodeId","message":"must be this node's name in the cluster; default: hostname-pid (hostname-w<slot> for --workers), got \"bad id\""}]],
  ["c({ keyPrefix: X129 })", c({ keyPrefix: X129 }), [{"path":"/cluster/keyPrefix","message":`must be at most 128 characters long, got "${X129}" (prefix of every key and channel (one cluster per prefix)): set a value in that range`}]],
  ["c({ flushMs: 49 })", c({ flushMs: 49 }), [{"path":"/cluster/flushMs","message":"must be a whole number from 50 to 60000, got 49 (seen clients are written to Redis in one pipeline this often): set a value in that range"}]],
  ["c({ flushMs: 60001 })", c({ flushMs: 60001 }), [{"path":"/cluster/flushMs","message":"must be a whole number from 50 to 60000, got 60001 (seen clients are written to Redis in one pipeline this often): set a value in that range"}]],
  ["c({ heartbeatMs: 99 })", c({ heartbeatMs: 99 }), [{"path":"/cluster/heartbeatMs","message":"must be a whole number from 100 to 60000, got 99 (liveness key refreshed this often; it expires after 3 of these): set a value in that range"}]],
  ["c({ heartbeatMs: 60001 })", c({ heartbeatMs: 60001 }), [{"path":"/cluster/heartbeatMs","message":"must be a whole number from 100 to 60000, got 60001 (liveness key refreshed this often; it expires after 3 of these): set a value in that range"}]],
  ["c({ maxPendingWrites: 0 })", c({ maxPendingWrites: 0 }), [{"path":"/cluster/maxPendingWrites","message":"must be a whole number at least 1, got 0 (seen clients waiting for the next flush; more are counted (pending-overflow) and retried on their next packet): set a value in that range"}]],
  ["c({ lookupTimeoutMs: 0 })", c({ lookupTimeoutMs: 0 }), [{"path":"/cluster/lookupTimeoutMs","message":"must be a whole number at least 1, got 0 (a Redis command slower than this fails (the packet is handled locally)): set a value in that range"}]],
  ["c({ ownerCacheMs: -1 })", c({ ownerCacheMs: -1 }), [{"path":"/cluster/ownerCacheMs","message":"must be a whole number at least 0, got -1 (how long a looked-up owner is reused): set a value in that range"}]],
  ["c({ flush: 5 })", c({ flush: 5 }), [{"path":"/cluster/flush","message":"unknown key: remove it or check its spelling"}]],
  ["{ ...base(), secret: 'short' }", { ...base(), secret: 'short' }, [{"path": "/secret", "message": "must be at least 16 characters long, got \"short\" (tag signing secret; generated if absent): set a value in that range"}]],
  ["{ ...base(), previousSecrets: ['short'] }", { ...base(), previousSecrets: ['short'] }, [{"path": "/previousSecrets/0", "message": "must be at least 16 characters long, got \"short\": set a value in that range"}]],
  ["{ ...base(), replyWindowSeconds: 0 }", { ...base(), replyWindowSeconds: 0 }, [{"path": "/replyWindowSeconds", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["{ ...base(), shutdownDeadlineMs: -1 }", { ...base(), shutdownDeadlineMs: -1 }, [{"path": "/shutdownDeadlineMs", "message": "must be a whole number at least 0, got -1: set a value in that range"}]],
  ["{ ...base(), transport: 'x' }", { ...base(), transport: 'x' }, [{"path": "/transport", "message": "must be one of \"auto\", \"native\", \"dgram\", got \"x\": use one of these"}]],
  ["{ ...base(), formatter: 'x' }", { ...base(), formatter: 'x' }, [{"path": "/formatter", "message": "must be one of \"base64\", \"hex\", \"utf8\", \"ascii\", \"coap\", got \"x\": use one of these"}]],
  ["{ ...base(), log: { level: 'x' } }", { ...base(), log: { level: 'x' } }, [{"path": "/log/level", "message": "must be one of \"fatal\", \"error\", \"warn\", \"info\", \"debug\", \"trace\", \"silent\", got \"x\": use one of these"}]],
  ["{ ...base(), admin: { port: 70000 } }", { ...base(), admin: { port: 70000 } }, [{"path": "/admin/port", "message": "must be a whole number from 0 to 65535, got 70000 (a TCP port; 0 picks a free one): set a value in that range"}]],
  ["{ ...base(), admin: { token: 'short' } }", { ...base(), admin: { token: 'short' } }, [{"path": "/admin/token", "message": "must be at least 8 characters long, got \"short\" (bearer token for POST /v1/send; sends are refused without one): set a value in that range"}]],
  ["{ ...base(), admin: { requestTimeoutMs: 99 } }", { ...base(), admin: { requestTimeoutMs: 99 } }, [{"path": "/admin/requestTimeoutMs", "message": "must be a whole number at least 100, got 99 (a request (headers and body) must arrive within this, else 408 and the connection is closed): set a value in that range"}]],
  ["{ ...base(), admin: { maxConnections: 0 } }", { ...base(), admin: { maxConnections: 0 } }, [{"path": "/admin/maxConnections", "message": "must be a whole number at least 1, got 0 (open connections at once; more are closed on accept): set a value in that range"}]],
  ["{ ...base(), admin: { enabled: 'yes' } }", { ...base(), admin: { enabled: 'yes' } }, [{"path": "/admin/enabled", "message": "Expected boolean, got \"yes\""}]],
  ["{ ...base(), admin: { host: 5 } }", { ...base(), admin: { host: 5 } }, [{"path": "/admin/host", "message": "Expected string, got 5"}]],
  ["{ ...base(), egress: { recentClientSeconds: -1 } }", { ...base(), egress: { recentClientSeconds: -1 } }, [{"path": "/egress/recentClientSeconds", "message": "must be a whole number at least 0, got -1: set a value in that range"}]],
  ["{ ...base(), egress: { maxRecentClients: 0 } }", { ...base(), egress: { maxRecentClients: 0 } }, [{"path": "/egress/maxRecentClients", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["{ ...base(), egress: { policy: 'x' } }", { ...base(), egress: { policy: 'x' } }, [{"path": "/egress/policy", "message": "must be one of \"address\", \"address-port\", got \"x\": use one of these"}]],
  ["{ ...base(), egress: { allow: [''] } }", { ...base(), egress: { allow: [''] } }, [{"path": "/egress/allow/0", "message": "must be at least 1 characters long, got \"\" (CIDR (10.0.0.0/8, 2001:db8::/32) or a single address): set a value in that range"}]],
  ["l({ name: 'bad name' })", l({ name: 'bad name' }), [{"path": "/listeners/0/name", "message": "must be letters, digits, _ . and - only, got \"bad name\""}]],
  ["l({ name: '' })", l({ name: '' }), [{"path": "/listeners/0/name", "message": "must be from 1 to 64 characters long, got \"\" (letters, digits, _ . and - only): set a value in that range"}, {"path": "/listeners/0/name", "message": "must be letters, digits, _ . and - only, got \"\""}]],
  ["l({ name: 'x'.repeat(65) })", l({ name: 'x'.repeat(65) }), [{"path": "/listeners/0/name", "message": "must be from 1 to 64 characters long, got \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" (letters, digits, _ . and - only): set a value in that range"}]],
  ["l({ port: -1 })", l({ port: -1 }), [{"path": "/listeners/0/port", "message": "must be a whole number from 0 to 65535, got -1 (a UDP port; 0 picks a free one): set a value in that range"}]],
  ["l({ receiveBufferBytes: 4095 })", l({ receiveBufferBytes: 4095 }), [{"path": "/listeners/0/receiveBufferBytes", "message": "must be a whole number at least 4096, got 4095: set a value in that range"}]],
  ["l({ sendBufferBytes: 4095 })", l({ sendBufferBytes: 4095 }), [{"path": "/listeners/0/sendBufferBytes", "message": "must be a whole number at least 4096, got 4095: set a value in that range"}]],
  ["l({ maxDatagramBytes: 0 })", l({ maxDatagramBytes: 0 }), [{"path": "/listeners/0/maxDatagramBytes", "message": "must be a whole number from 1 to 65507, got 0: set a value in that range"}]],
  ["l({ maxDatagramBytes: 65508 })", l({ maxDatagramBytes: 65508 }), [{"path": "/listeners/0/maxDatagramBytes", "message": "must be a whole number from 1 to 65507, got 65508: set a value in that range"}]],
  ["l({ receiveCoalesceMicros: -1 })", l({ receiveCoalesceMicros: -1 }), [{"path": "/listeners/0/receiveCoalesceMicros", "message": "must be a whole number from 0 to 10000, got -1 (when the socket wakes up more than twice per this many µs (over 8 wake-ups), read it on a timer every this many µs instead of on every datagram, so datagrams arrive and leave in larger batches (native transport); adds at most this to latency while traffic is that dense; 0 turns it off): set a value in that range"}]],
  ["l({ receiveCoalesceMicros: 10001 })", l({ receiveCoalesceMicros: 10001 }), [{"path": "/listeners/0/receiveCoalesceMicros", "message": "must be a whole number from 0 to 10000, got 10001 (when the socket wakes up more than twice per this many µs (over 8 wake-ups), read it on a timer every this many µs instead of on every datagram, so datagrams arrive and leave in larger batches (native transport); adds at most this to latency while traffic is that dense; 0 turns it off): set a value in that range"}]],
  ["l({ rateLimit: { packetsPerSecond: 0 } })", l({ rateLimit: { packetsPerSecond: 0 } }), [{"path": "/listeners/0/rateLimit/packetsPerSecond", "message": "must be a whole number at least 1, got 0 (per client address): set a value in that range"}]],
  ["l({ rateLimit: { bytesPerSecond: 0 } })", l({ rateLimit: { bytesPerSecond: 0 } }), [{"path": "/listeners/0/rateLimit/bytesPerSecond", "message": "must be a whole number at least 1, got 0 (per client address (payload bytes)): set a value in that range"}]],
  ["l({ rateLimit: { burstSeconds: 0 } })", l({ rateLimit: { burstSeconds: 0 } }), [{"path": "/listeners/0/rateLimit/burstSeconds", "message": "Expected number to be greater than 0, got 0 (a client may send this many seconds of its rates at once)"}]],
  ["l({ rateLimit: { burstSeconds: 3601 } })", l({ rateLimit: { burstSeconds: 3601 } }), [{"path": "/listeners/0/rateLimit/burstSeconds", "message": "must be a number at most 3600, got 3601 (a client may send this many seconds of its rates at once): set a value in that range"}]],
  ["l({ rateLimit: { maxClients: 0 } })", l({ rateLimit: { maxClients: 0 } }), [{"path": "/listeners/0/rateLimit/maxClients", "message": "must be a whole number at least 1, got 0 (client addresses remembered; the least recently seen is forgotten first): set a value in that range"}]],
  ["l({ protocol: { type: '' } })", l({ protocol: { type: '' } }), [{"path": "/listeners/0/protocol/type", "message": "must be at least 1 characters long, got \"\": set a value in that range"}, {"path": "/listeners/0/protocol/type", "message": "unknown listener protocol \"\": use one of wireguard (or leave protocol out for plain UDP)"}]],
  ["l({ destinations: [] })", l({ destinations: [] }), [{"path": "/listeners/0/destinations", "message": "must be a list of at least 1 entries, got []: set a value in that range"}]],
  ["l({ host: 1 })", l({ host: 1 }), [{"path": "/listeners/0/host", "message": "Expected string, got 1 (address to bind: 0.0.0.0, ::, 127.0.0.1, \u2026)"}]],
  ["l({ formatter: 'x' })", l({ formatter: 'x' }), [{"path": "/listeners/0/formatter", "message": "must be one of \"base64\", \"hex\", \"utf8\", \"ascii\", \"coap\", got \"x\": use one of these"}]],
  ["l({ deny: [''] })", l({ deny: [''] }), [{"path": "/listeners/0/deny/0", "message": "must be at least 1 characters long, got \"\" (CIDR (10.0.0.0/8, 2001:db8::/32) or a single address): set a value in that range"}]],
  ["d({ name: 'bad name' })", d({ name: 'bad name' }), [{"path": "/listeners/0/destinations/0/name", "message": "must be letters, digits, _ . and - only, got \"bad name\""}]],
  ["d({ batch: { maxBytes: 0 } })", d({ batch: { maxBytes: 0 } }), [{"path": "/listeners/0/destinations/0/batch/maxBytes", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["d({ batch: { lingerMs: -1 } })", d({ batch: { lingerMs: -1 } }), [{"path": "/listeners/0/destinations/0/batch/lingerMs", "message": "must be a whole number at least 0, got -1: set a value in that range"}]],
  ["d({ queue: { maxPackets: 0 } })", d({ queue: { maxPackets: 0 } }), [{"path": "/listeners/0/destinations/0/queue/maxPackets", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["d({ inFlight: 0 })", d({ inFlight: 0 }), [{"path": "/listeners/0/destinations/0/inFlight", "message": "must be a whole number at least 1, got 0 (batches being sent at once): set a value in that range"}]],
  ["d({ retry: { maxAttempts: 0 } })", d({ retry: { maxAttempts: 0 } }), [{"path": "/listeners/0/destinations/0/retry/maxAttempts", "message": "must be a whole number at least 1, got 0 (attempts in all, including the first): set a value in that range"}]],
  ["d({ retry: { baseDelayMs: 0 } })", d({ retry: { baseDelayMs: 0 } }), [{"path": "/listeners/0/destinations/0/retry/baseDelayMs", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["d({ retry: { maxDelayMs: 0 } })", d({ retry: { maxDelayMs: 0 } }), [{"path": "/listeners/0/destinations/0/retry/maxDelayMs", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["d({ buffer: { disk: { path: '' } } })", d({ buffer: { disk: { path: '' } } }), [{"path": "/listeners/0/destinations/0/buffer/disk/path", "message": "must be at least 1 characters long, got \"\" (a directory of its own for this destination (relative to the config file)): set a value in that range"}]],
  ["d({ buffer: { disk: { path: 'x', maxBytes: 65535 } } })", d({ buffer: { disk: { path: 'x', maxBytes: 65535 } } }), [{"path": "/listeners/0/destinations/0/buffer/disk/maxBytes", "message": "must be a whole number at least 65536, got 65535 (past this, packets go to the dead-letter (or are dropped, reason buffer-full)): set a value in that range"}]],
  ["d({ buffer: { disk: { path: 'x', fsync: 'x' } } })", d({ buffer: { disk: { path: 'x', fsync: 'x' } } }), [{"path": "/listeners/0/destinations/0/buffer/disk/fsync", "message": "must be one of \"always\", \"interval\", \"never\", got \"x\": use one of these"}]],
  ["d({ buffer: { disk: { path: 'x', fsyncIntervalMs: 0 } } })", d({ buffer: { disk: { path: 'x', fsyncIntervalMs: 0 } } }), [{"path": "/listeners/0/destinations/0/buffer/disk/fsyncIntervalMs", "message": "must be a whole number at least 1, got 0: set a value in that range"}]],
  ["d({ sample: { every: 0 } })", d({ sample: { every: 0 } }), [{"path": "/listeners/0/destinations/0/sample/every", "message": "must be a whole number at least 1, got 0 (only one packet in `every` goes to this destination (the others are counted as sampled-out)): set a value in that range"}]],
  ["d({ sample: {} })", d({ sample: {} }), [{"path": "/listeners/0/destinations/0/sample/every", "message": "is required"}]],
  ["d({ deadLetter: { file: '' } })", d({ deadLetter: { file: '' } }), [{"path": "/listeners/0/destinations/0/deadLetter", "message": "must be { file: <path> }, { sqsQueueUrl: <url> }, or a destination { type: <kind>, \u2026 }, got {\"file\":\"\"}"}]],
  ["d({ deadLetter: { sqsQueueUrl: '' } })", d({ deadLetter: { sqsQueueUrl: '' } }), [{"path": "/listeners/0/destinations/0/deadLetter", "message": "must be { file: <path> }, { sqsQueueUrl: <url> }, or a destination { type: <kind>, \u2026 }, got {\"sqsQueueUrl\":\"\"}"}]],
  ["d({ deadLetter: { file: 'x', extra: 1 } })", d({ deadLetter: { file: 'x', extra: 1 } }), [{"path": "/listeners/0/destinations/0/deadLetter", "message": "must be { file: <path> }, { sqsQueueUrl: <url> }, or a destination { type: <kind>, \u2026 }, got {\"file\":\"x\",\"extra\":1}"}]],
];

describe('config schema bounds', () => {
  it.each(cases)('%s', (_name, raw, expected) => {
    expect(problems(raw)).toEqual(expected);
  });

  it('fills the cluster defaults, and accepts each of its bounds', () => {
    expect((resolveConfig(c({}), '/tmp') as { cluster?: unknown }).cluster).toEqual({
      redis: 'redis://127.0.0.1:6379', keyPrefix: 'udpgw:', flushMs: 1000, heartbeatMs: 2000, maxPendingWrites: 100_000, lookupTimeoutMs: 500, ownerCacheMs: 1000,
    });
    expect(problems(c({ redis: 'r', nodeId: 'a'.repeat(128), keyPrefix: 'k'.repeat(128), flushMs: 50, heartbeatMs: 100, maxPendingWrites: 1, lookupTimeoutMs: 1, ownerCacheMs: 0 }))).toEqual([]);
    expect(problems(c({ nodeId: 'gw-a.b_c:1', keyPrefix: '', flushMs: 60_000, heartbeatMs: 60_000 }))).toEqual([]);
  });

  it('accepts each bound itself', () => {
    expect(problems({
      ...base(), secret: 's'.repeat(16), previousSecrets: ['p'.repeat(16)], replyWindowSeconds: 1, shutdownDeadlineMs: 0,
      admin: { port: 65535, token: 't'.repeat(8), requestTimeoutMs: 100, maxConnections: 1 },
      egress: { recentClientSeconds: 0, maxRecentClients: 1, policy: 'address-port', allow: ['10.0.0.0/8'] },
    })).toEqual([]);
    expect(problems(l({ name: 'x'.repeat(64), port: 65535, receiveBufferBytes: 4096, sendBufferBytes: 4096, maxDatagramBytes: 65507, receiveCoalesceMicros: 10000, rateLimit: { packetsPerSecond: 1, bytesPerSecond: 1, burstSeconds: 3600, maxClients: 1 } }))).toEqual([]);
    expect(problems(d({ name: 'a.b-c_1', batch: { maxPackets: 1, maxBytes: 1, lingerMs: 0 }, queue: { maxPackets: 1 }, inFlight: 1, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, buffer: { disk: { path: 'b', maxBytes: 65536, fsync: 'never', fsyncIntervalMs: 1 } }, sample: { every: 1 } }))).toEqual([]);
  });
});
