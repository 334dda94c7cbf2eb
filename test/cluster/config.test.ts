/** Cluster mode's config (file and environment) and the message format between nodes (pure). */
import { describe, expect, it } from 'vitest';
import { applyEnv, resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';
import { decodeClusterMessage, decodeClusterPayload, encodeClusterBatch, encodeClusterMessage, flowKey, type ClusterMessage } from '../../gateway/cluster/bus.js';

const base = { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'file', path: 'x.ndjson' }] }] };

describe('cluster config', () => {
  it('is absent unless configured; defaults fill in around the url', () => {
    expect(resolveConfig(base, '/tmp').cluster).toBeUndefined();
    expect(resolveConfig({ ...base, cluster: { redis: 'redis://10.0.0.9:6379' } }, '/tmp').cluster).toEqual({
      redis: 'redis://10.0.0.9:6379', keyPrefix: 'udpgw:', flushMs: 1000, heartbeatMs: 2000, maxPendingWrites: 100_000, lookupTimeoutMs: 500, ownerCacheMs: 1000,
    });
  });

  it('comes from the environment: UDPGW_CLUSTER_REDIS, _NODE_ID, _KEY_PREFIX (text, even when it looks like JSON)', () => {
    const raw = applyEnv(base, { UDPGW_CLUSTER_REDIS: 'rediss://cache.example:6379', UDPGW_CLUSTER_NODE_ID: '42', UDPGW_CLUSTER_KEY_PREFIX: 'gw1:' });
    expect(resolveConfig(raw, '/tmp').cluster).toMatchObject({ redis: 'rediss://cache.example:6379', nodeId: '42', keyPrefix: 'gw1:' });
    expect(resolveConfig(applyEnv(base, { UDPGW_CLUSTER_REDIS: '' }), '/tmp').cluster).toBeUndefined(); // empty: a single node
  });

  it('refuses unknown keys, a node id with spaces and a missing url', () => {
    expect(() => resolveConfig({ ...base, cluster: { redis: 'redis://x', gossip: true } }, '/tmp')).toThrow(ConfigError);
    expect(() => resolveConfig({ ...base, cluster: { redis: 'redis://x', nodeId: 'a b' } }, '/tmp')).toThrow(/nodeId/);
    expect(() => resolveConfig({ ...base, cluster: { nodeId: 'a' } }, '/tmp')).toThrow(/redis/);
  });
});

describe('cluster messages', () => {
  const data = Buffer.from([0, 1, 2, 255, 10, 13]);
  it.each<ClusterMessage>([
    { kind: 'oob', from: 'n1', listener: 'edge', address: '2001:db8::1', port: 5683, data },
    { kind: 'oob', from: 'n1', listener: 'edge', address: '203.0.113.5', port: 1, expiresAt: 1_800_000_000_000, data: Buffer.alloc(0) },
    { kind: 'reply', from: 'n2', tag: 'AQGiKJYL', data },
    { kind: 'end-sessions', from: 'n3', client: '203.0.113.5:51234', destination: 'edge/proxy' },
  ])('round-trips %j byte for byte', (m) => {
    const back = decodeClusterMessage(encodeClusterMessage(m));
    expect(back).toEqual(m);
  });

  it('rejects what is not a message', () => {
    for (const b of [Buffer.alloc(0), Buffer.from([0, 0, 0, 9, 1]), Buffer.from('\0\0\0\x02{}'), encodeClusterMessage({ kind: 'reply', from: 'x', tag: 't', data }).subarray(0, 6)]) {
      expect(decodeClusterMessage(b)).toBeUndefined();
    }
    const badPort = encodeClusterMessage({ kind: 'oob', from: 'x', listener: 'edge', address: '203.0.113.5', port: 1.5, data });
    expect(decodeClusterMessage(badPort)).toBeUndefined();
  });

  it('carries several messages for one node in one payload; a truncated batch ends in one malformed entry', () => {
    const ms: ClusterMessage[] = [{ kind: 'reply', from: 'n2', tag: 't1', data }, { kind: 'oob', from: 'n2', listener: 'edge', address: '203.0.113.5', port: 9, data: Buffer.from('x') }];
    const batch = encodeClusterBatch(ms.map(encodeClusterMessage));
    expect(decodeClusterPayload(batch)).toEqual(ms);
    expect(decodeClusterPayload(encodeClusterBatch([encodeClusterMessage(ms[0]!)]))).toEqual([ms[0]]); // one message: no batch wrapper
    expect(decodeClusterPayload(batch.subarray(0, batch.length - 3))).toEqual([ms[0], undefined]);
  });

  it('keys a v4-mapped client by its plain address', () => {
    expect(flowKey('p:', 'edge', '::ffff:203.0.113.5', 7)).toBe(flowKey('p:', 'edge', '203.0.113.5', 7));
    expect(flowKey('p:', 'edge', '2001:db8::1', 7)).toBe('p:c:edge:2001:db8::1:7');
  });
});
