import { describe, expect, it } from 'vitest';
import { buildEgressDocuments, buildReplyDocuments, encodePacket, groupBatches } from '../../packet-source/publisher/publisher-build.js';
import { parseEgressDocument } from '../../gateway/wire/egress-message.js';

const packet = (i: number, size = 10) => ({ address: '198.51.100.7', port: 4000 + i, data: Buffer.alloc(size, i) });

describe('publisher builders', () => {
  it('builds a document the gateway parses back to the same packets', () => {
    const [doc, ...rest] = buildEgressDocuments([
      { address: '198.51.100.7', port: 5000, data: 'héllo', formatter: 'utf8', listener: 'edge', ttlSeconds: 30 },
      { address: '2001:db8::1', port: 6000, data: Buffer.from([0, 255]), formatter: 'hex', expiresAt: new Date(1_000_000), peerKey: 'k1' },
    ]);
    expect(rest).toEqual([]);
    const parsed = parseEgressDocument(doc!, { now: 5_000 });
    if (parsed instanceof Error) throw parsed;
    expect(parsed.rejected).toEqual([]);
    expect(parsed.packets).toEqual([
      { remote: { address: '198.51.100.7', port: 5000 }, data: Buffer.from('héllo'), listener: 'edge', expiresAt: 35_000 },
      { remote: { address: '2001:db8::1', port: 6000 }, data: Buffer.from([0, 255]), peerKey: 'k1', expiresAt: 1_000_000 },
    ]);
  });

  it('splits so every document stays within maxBytes and keeps every packet once, in order', () => {
    const packets = Array.from({ length: 50 }, (_, i) => packet(i, 300));
    const docs = buildEgressDocuments(packets, 2_000);
    expect(docs.length).toBeGreaterThan(1);
    for (const d of docs) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(2_000);
    const ports = docs.flatMap((d) => (JSON.parse(d) as { Messages: { Remote: { Port: number } }[] }).Messages.map((m) => m.Remote.Port));
    expect(ports).toEqual(packets.map((p) => p.port));
  });

  it('fills documents up to the limit (the next packet would not fit)', () => {
    const docs = buildEgressDocuments(Array.from({ length: 20 }, (_, i) => packet(i, 300)), 2_000);
    for (const d of docs.slice(0, -1)) {
      const one = JSON.stringify(encodePacket(packet(0, 300)));
      expect(Buffer.byteLength(d) + Buffer.byteLength(one) + 1).toBeGreaterThan(2_000);
    }
  });

  it('honours batchSize', () => {
    const docs = buildEgressDocuments(Array.from({ length: 7 }, (_, i) => packet(i)), 262_144, 3);
    expect(docs.map((d) => (JSON.parse(d) as { Messages: unknown[] }).Messages.length)).toEqual([3, 3, 1]);
  });

  it('refuses a packet that cannot fit in one message, and bad addresses', () => {
    expect(() => buildEgressDocuments([packet(0, 300_000)])).toThrow(RangeError);
    expect(() => buildEgressDocuments([{ address: 'example.com', port: 1, data: 'x' }])).toThrow(/address is not an IP/);
    expect(() => buildEgressDocuments([{ address: '192.0.2.1', port: 0, data: 'x' }])).toThrow(/port/);
  });

  it('builds reply documents', () => {
    const [doc] = buildReplyDocuments([{ tag: 'abc', data: 'pong' }]);
    expect(JSON.parse(doc!)).toEqual({ Replies: [{ Tag: 'abc', Data: Buffer.from('pong').toString('base64'), Formatter: 'base64' }] });
    expect(buildReplyDocuments([])).toEqual([]);
  });

  it('groups documents into SQS batches by count and total bytes', () => {
    const docs = Array.from({ length: 25 }, () => 'x'.repeat(100));
    expect(groupBatches(docs, 10, 1_000_000).map((b) => b.length)).toEqual([10, 10, 5]);
    expect(groupBatches(docs, 10, 450).map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
  });
});
