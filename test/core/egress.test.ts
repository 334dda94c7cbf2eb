/**
 * The egress policy on values: which listener a reply leaves from, the address family of the
 * listener's socket, the recently-seen window and the allow list. Ports record what they were
 * asked to transmit (the abstract transport the core takes), so every refusal is checked as
 * "nothing handed to any socket", with no waiting.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Egress, type EgressPort } from '../../gateway/egress.js';
import { Metrics } from '../../gateway/metrics.js';
import { RecentClients, clientKey } from '../../gateway/recent-clients.js';
import { createTagCodec } from '../../gateway/tag.js';
import type { Endpoint } from '../../gateway/packet.js';

const t0 = Date.UTC(2026, 10, 29, 12);
const silent = pino({ level: 'silent' });

interface RecordingPort extends EgressPort { readonly sent: { to: string; data: string; peerKey?: string }[] }

function port(name: string, family: 4 | 6, recentClients = new RecentClients(60_000, 100), extra: { tunnelled?: boolean; refuse?: string } = {}): RecordingPort {
  const sent: { to: string; data: string; peerKey?: string }[] = [];
  return {
    name, family, formatter: 'utf8', recentClients, sent, ...(extra.tunnelled ? { tunnelled: true } : {}),
    transmit: (remote: Endpoint & { peerKey?: string }, data: Buffer) => {
      if (extra.refuse) return extra.refuse;
      sent.push({ to: `${remote.address}|${remote.port}`, data: data.toString(), ...(remote.peerKey !== undefined ? { peerKey: remote.peerKey } : {}) });
      return undefined;
    },
  };
}

function setup(opts: { allow?: string[]; policy?: 'address' | 'address-port' } = {}) {
  let now = t0;
  const metrics = new Metrics();
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  const logger = { ...silent, warn: (fields: Record<string, unknown>, msg: string) => { warnings.push({ fields, msg }); } } as unknown as typeof silent;
  const codec = createTagCodec({ secret: randomBytes(32), replyWindowMs: 60_000, now: () => now });
  const egress = new Egress({ codec, metrics, logger, allow: opts.allow ?? [], ...(opts.policy ? { policy: opts.policy } : {}), now: () => now });
  const refused = async (path: string, reason: string) =>
    (await metrics.egressRefused.get()).values.find((v) => v.labels.path === path && v.labels.reason === reason)?.value ?? 0;
  const sentCount = async (listener: string, path: string) =>
    (await metrics.packetsOut.get()).values.find((v) => v.labels.listener === listener && v.labels.path === path)?.value ?? 0;
  const sentBytes = async (listener: string, path: string) =>
    (await metrics.bytesOut.get()).values.find((v) => v.labels.listener === listener && v.labels.path === path)?.value ?? 0;
  return { egress, codec, metrics, refused, sentCount, sentBytes, warnings, advance: (ms: number) => { now += ms; }, now: () => now };
}

describe('egress: replies', () => {
  it('a reply whose tag names a listener that is not attached is refused, never sent from another listener', async () => {
    const { egress, codec, refused } = setup();
    const edge = port('edge', 4);
    egress.attach(edge);
    const tag = codec.encode('gone', { address: '127.0.0.1', port: 4000 }, t0);
    expect(egress.reply(tag, Buffer.from('r'))).toEqual({ ok: false, reason: 'unknown-listener' });
    expect(edge.sent).toEqual([]);
    expect(await refused('reply', 'unknown-listener')).toBe(1);
    // The same client through a tag of the attached listener: sent, from that listener.
    expect(egress.reply(codec.encode('edge', { address: '127.0.0.1', port: 4000 }, t0), Buffer.from('r'))).toEqual({ ok: true });
    expect(edge.sent).toEqual([{ to: '127.0.0.1|4000', data: 'r' }]);
  });

  it('each reply leaves from the listener its tag names', () => {
    const { egress, codec } = setup();
    const a = port('a', 4), b = port('b', 4);
    egress.attach(a); egress.attach(b);
    egress.reply(codec.encode('b', { address: '127.0.0.1', port: 1 }, t0), Buffer.from('to-b'));
    egress.reply(codec.encode('a', { address: '127.0.0.1', port: 2 }, t0), Buffer.from('to-a'));
    expect([a.sent, b.sent]).toEqual([[{ to: '127.0.0.1|2', data: 'to-a' }], [{ to: '127.0.0.1|1', data: 'to-b' }]]);
  });

  it('a reply with a bad tag is refused by the tag\'s reason, counted by path, and sends nothing', async () => {
    const { egress, codec, refused } = setup();
    const edge = port('edge', 4);
    egress.attach(edge);
    const forger = createTagCodec({ secret: randomBytes(32), replyWindowMs: 60_000, now: () => t0 });
    expect(egress.reply(forger.encode('edge', { address: '127.0.0.1', port: 1 }, t0), Buffer.from('f'), 'async_reply')).toEqual({ ok: false, reason: 'tag-forged' });
    expect(egress.reply('not a tag', Buffer.from('m'))).toEqual({ ok: false, reason: 'tag-malformed' });
    expect(egress.replyByTag(codec.encode('edge', { address: '127.0.0.1', port: 1 }, t0 - 120_000), Buffer.from('e'))).toBe(false);
    expect(edge.sent).toEqual([]);
    expect([await refused('async_reply', 'tag-forged'), await refused('reply', 'tag-malformed'), await refused('reply', 'tag-expired')]).toEqual([1, 1, 1]);
    expect(egress.replyByTag(codec.encode('edge', { address: '127.0.0.1', port: 1 }, t0), Buffer.from('ok'))).toBe(true);
  });

  it('counts what left, packets and bytes, by listener and path; a socket refusal is a refusal, not a send', async () => {
    const { egress, codec, sentCount, sentBytes, refused } = setup({ allow: ['127.0.0.0/8'] });
    const edge = port('edge', 4), full = port('full', 4, undefined, { refuse: 'transport-refused' });
    egress.attach(edge); egress.attach(full);
    egress.reply(codec.encode('edge', { address: '127.0.0.1', port: 1 }, t0), Buffer.from('abc'));
    egress.reply(codec.encode('edge', { address: '127.0.0.1', port: 1 }, t0), Buffer.from('de'));
    egress.sendToClient('edge', { address: '127.0.0.1', port: 2 }, Buffer.from('p'));
    egress.sendOutOfBand({ remote: { address: '127.0.0.1', port: 3 }, data: Buffer.from('oob!') }, 'edge');
    expect(egress.reply(codec.encode('full', { address: '127.0.0.1', port: 1 }, t0), Buffer.from('x'))).toEqual({ ok: false, reason: 'transport-refused' });
    expect([await sentCount('edge', 'reply'), await sentBytes('edge', 'reply'), await sentCount('edge', 'proxy'), await sentCount('edge', 'out_of_band'), await sentBytes('edge', 'out_of_band')]).toEqual([2, 5, 1, 1, 4]);
    expect([await sentCount('full', 'reply'), await refused('reply', 'transport-refused')]).toEqual([0, 1]);
    expect(edge.sent.map((s) => s.data)).toEqual(['abc', 'de', 'p', 'oob!']);
  });

  it('knows its listeners and their formatters, and forgets a detached one', () => {
    const { egress, codec } = setup();
    egress.attach(port('a', 4));
    egress.attach({ ...port('b', 4), formatter: 'hex' });
    expect([egress.listeners(), egress.formatterOf('b'), egress.formatterOfTag(codec.encode('b', { address: '127.0.0.1', port: 1 }, t0)), egress.formatterOfTag('bad')]).toEqual([['a', 'b'], 'hex', 'hex', undefined]);
    egress.detach('a');
    expect([egress.listeners(), egress.formatterOf('a')]).toEqual([['b'], undefined]);
  });

  it('a proxy reply for an unknown listener is refused and counted', async () => {
    const { egress, refused } = setup();
    const edge = port('edge', 4);
    egress.attach(edge);
    egress.sendToClient('other', { address: '127.0.0.1', port: 9 }, Buffer.from('x'));
    expect(edge.sent).toEqual([]);
    expect(await refused('proxy', 'unknown-listener')).toBe(1);
  });
});

describe('egress: out-of-band address policy', () => {
  it('an IPv6 client cannot be reached from an IPv4 listener: family-mismatch, even when allowed', async () => {
    const { egress, refused } = setup({ allow: ['::/0', '0.0.0.0/0'] });
    const v4 = port('v4', 4);
    egress.attach(v4);
    expect(egress.sendOutOfBand({ remote: { address: '2001:db8::1', port: 5 }, data: Buffer.from('x') }, 'v4')).toEqual({ ok: false, reason: 'family-mismatch' });
    expect(v4.sent).toEqual([]);
    expect(await refused('out_of_band', 'family-mismatch')).toBe(1);
  });

  it('an IPv6 client is reached from an IPv6 listener as it is', () => {
    const { egress } = setup({ allow: ['2001:db8::/32'] });
    const v6 = port('v6', 6);
    egress.attach(v6);
    expect(egress.sendOutOfBand({ remote: { address: '2001:db8::1', port: 5 }, data: Buffer.from('six') }, 'v6')).toEqual({ ok: true });
    expect(v6.sent).toEqual([{ to: '2001:db8::1|5', data: 'six' }]);
  });

  it('an IPv4-mapped address reaches an IPv4 listener as plain IPv4; an IPv4 address reaches an IPv6 listener as mapped', () => {
    const { egress } = setup({ allow: ['10.0.0.0/8'] });
    const v4 = port('v4', 4), v6 = port('v6', 6);
    egress.attach(v4); egress.attach(v6);
    expect(egress.sendOutOfBand({ remote: { address: '::ffff:10.1.2.3', port: 5 }, data: Buffer.from('a') }, 'v4')).toEqual({ ok: true });
    expect(egress.sendOutOfBand({ remote: { address: '10.1.2.3', port: 6 }, data: Buffer.from('b') }, 'v6')).toEqual({ ok: true });
    expect([v4.sent, v6.sent]).toEqual([[{ to: '10.1.2.3|5', data: 'a' }], [{ to: '::ffff:10.1.2.3|6', data: 'b' }]]);
  });

  it('the listener named by the packet, else the default; an unknown one is refused', async () => {
    const { egress, refused } = setup({ allow: ['127.0.0.0/8'] });
    const a = port('a', 4), b = port('b', 4);
    egress.attach(a); egress.attach(b);
    egress.sendOutOfBand({ remote: { address: '127.0.0.1', port: 1 }, data: Buffer.from('dflt') }, 'a');
    egress.sendOutOfBand({ remote: { address: '127.0.0.1', port: 1 }, data: Buffer.from('named'), listener: 'b' }, 'a');
    expect(egress.sendOutOfBand({ remote: { address: '127.0.0.1', port: 1 }, data: Buffer.from('x'), listener: 'c' }, 'a')).toEqual({ ok: false, reason: 'unknown-listener' });
    expect([a.sent.map((s) => s.data), b.sent.map((s) => s.data)]).toEqual([['dflt'], ['named']]);
    expect(await refused('out_of_band', 'unknown-listener')).toBe(1);
  });

  it('expired packets are refused (counted); one expiring exactly now still leaves', async () => {
    const { egress, now, refused } = setup({ allow: ['127.0.0.0/8'] });
    const a = port('a', 4);
    egress.attach(a);
    expect(egress.sendOutOfBand({ remote: { address: '127.0.0.1', port: 1 }, data: Buffer.from('late'), expiresAt: now() - 1 }, 'a')).toEqual({ ok: false, reason: 'expired' });
    expect(egress.sendOutOfBand({ remote: { address: '127.0.0.1', port: 1 }, data: Buffer.from('now'), expiresAt: now() }, 'a')).toEqual({ ok: true });
    expect(a.sent.map((s) => s.data)).toEqual(['now']);
    expect(await refused('out_of_band', 'expired')).toBe(1);
  });

  it('a client seen on the listener may receive until its window ends, then is refused', () => {
    const { egress, advance, now } = setup();
    const recent = new RecentClients(60_000, 100);
    const a = port('a', 4, recent);
    egress.attach(a);
    recent.touch('192.0.2.7', now());
    const send = () => egress.sendOutOfBand({ remote: { address: '192.0.2.7', port: 9 }, data: Buffer.from('x') }, 'a');
    expect(send()).toEqual({ ok: true });
    advance(60_000);
    expect(send()).toEqual({ ok: true });
    advance(1);
    expect(send()).toEqual({ ok: false, reason: 'address-refused' });
    expect(egress.sendOutOfBand({ remote: { address: '192.0.2.8', port: 9 }, data: Buffer.from('x') }, 'a')).toEqual({ ok: false, reason: 'address-refused' });
    expect(a.sent).toHaveLength(2);
  });

  it('address-port policy: a seen client receives only on the port it sent from', () => {
    const { egress, now } = setup({ policy: 'address-port' });
    const recent = new RecentClients(60_000, 100);
    const a = port('a', 4, recent);
    egress.attach(a);
    recent.touch(clientKey('192.0.2.7', 4000), now());
    expect(egress.sendOutOfBand({ remote: { address: '192.0.2.7', port: 4001 }, data: Buffer.from('other') }, 'a')).toEqual({ ok: false, reason: 'address-refused' });
    expect(egress.sendOutOfBand({ remote: { address: '192.0.2.7', port: 4000 }, data: Buffer.from('same') }, 'a')).toEqual({ ok: true });
    expect(a.sent).toEqual([{ to: '192.0.2.7|4000', data: 'same' }]);
  });

  it('egress.allow admits unseen clients in its networks only; a refusal is counted and logged without the address', async () => {
    const { egress, refused, warnings } = setup({ allow: ['198.51.100.0/24'] });
    const a = port('a', 4);
    egress.attach(a);
    expect(egress.sendOutOfBand({ remote: { address: '198.51.100.9', port: 1 }, data: Buffer.from('in') }, 'a')).toEqual({ ok: true });
    expect(egress.sendOutOfBand({ remote: { address: '198.51.101.9', port: 1 }, data: Buffer.from('out') }, 'a')).toEqual({ ok: false, reason: 'address-refused' });
    expect(a.sent.map((s) => s.data)).toEqual(['in']);
    expect(await refused('out_of_band', 'address-refused')).toBe(1);
    expect(warnings).toEqual([{ fields: { listener: 'a', reason: 'address-refused' }, msg: 'out-of-band send refused by the egress policy' }]);
  });
});

describe('egress: out-of-band through a tunnel (listener protocol)', () => {
  it('a tunnelled listener hands the inner address to its protocol, with no address policy of its own', () => {
    const { egress } = setup();
    const wg = port('wg', 4, undefined, { tunnelled: true });
    egress.attach(wg);
    expect(egress.sendOutOfBand({ remote: { address: '10.9.0.2', port: 7 }, data: Buffer.from('in-tunnel') }, 'wg')).toEqual({ ok: true });
    expect(egress.sendOutOfBand({ remote: { address: '10.9.0.3', port: 7 }, data: Buffer.from('by-key'), peerKey: 'PEERKEY' }, 'wg')).toEqual({ ok: true });
    expect(wg.sent).toEqual([{ to: '10.9.0.2|7', data: 'in-tunnel' }, { to: '10.9.0.3|7', data: 'by-key', peerKey: 'PEERKEY' }]);
  });

  it('a PeerKey for a listener without a tunnel is refused, even for an allowed address', async () => {
    const { egress, refused } = setup({ allow: ['0.0.0.0/0'] });
    const plain = port('plain', 4);
    egress.attach(plain);
    expect(egress.sendOutOfBand({ remote: { address: '10.9.0.2', port: 7 }, data: Buffer.from('x'), peerKey: 'PEERKEY' }, 'plain')).toEqual({ ok: false, reason: 'peer-key-not-tunnelled' });
    expect(plain.sent).toEqual([]);
    expect(await refused('out_of_band', 'peer-key-not-tunnelled')).toBe(1);
  });

  it('the protocol\'s own refusal is the answer, counted', async () => {
    const { egress, refused } = setup();
    egress.attach(port('wg', 4, undefined, { tunnelled: true, refuse: 'no-session' }));
    expect(egress.sendOutOfBand({ remote: { address: '10.9.0.2', port: 7 }, data: Buffer.from('x') }, 'wg')).toEqual({ ok: false, reason: 'no-session' });
    expect(await refused('out_of_band', 'no-session')).toBe(1);
  });
});

describe('RecentClients', () => {
  it('remembers a client for exactly its window', () => {
    const r = new RecentClients(10_000, 10);
    r.touch('a', t0);
    expect([r.has('a', t0 + 10_000), r.has('a', t0 + 10_001), r.has('b', t0)]).toEqual([true, false, false]);
  });

  it('at its size limit, forgets the least recently seen client first', () => {
    const r = new RecentClients(3_600_000, 2);
    r.touch('a', t0);
    r.touch('b', t0);
    r.touch('a', t0 + 2000); // a seen again: b is now the oldest
    r.touch('c', t0 + 3000);
    expect([r.size, r.has('a', t0 + 3000), r.has('b', t0 + 3000), r.has('c', t0 + 3000)]).toEqual([2, true, false, true]);
  });

  it('a window of 0 remembers nobody', () => {
    const r = new RecentClients(0, 10);
    r.touch('a', t0);
    r.remember('b', t0);
    expect([r.size, r.has('a', t0)]).toEqual([0, false]);
  });

  it('refreshes a client at most once a second; a touch after that extends its window', () => {
    const r = new RecentClients(10_000, 10);
    r.touch('a', t0);
    r.touch('a', t0 + 999); // not refreshed: still counted from t0
    expect(r.has('a', t0 + 10_500)).toBe(false);
    r.touch('a', t0 + 1000);
    expect(r.has('a', t0 + 11_000)).toBe(true);
  });

  it('shares a new client, and again only after half a window', () => {
    const r = new RecentClients(10_000, 10);
    const shared: number[] = [];
    r.onShare = () => shared.push(1);
    r.touch('a', t0);
    r.touch('a', t0 + 2000);
    r.touch('a', t0 + 4999);
    r.touch('a', t0 + 6000);
    expect(shared).toHaveLength(2);
  });

  it('shares again at exactly half a window', () => {
    const r = new RecentClients(10_000, 10);
    let shared = 0;
    r.onShare = () => { shared++; };
    r.touch('a', t0);
    r.touch('a', t0 + 5000);
    expect(shared).toBe(2);
  });

  it('a client seen again moves to the end of the eviction order', () => {
    const r = new RecentClients(3_600_000, 3);
    r.touch('a', t0);
    r.touch('b', t0);
    r.touch('a', t0 + 2000); // below the limit: a still moves behind b
    r.touch('c', t0 + 3000);
    r.touch('d', t0 + 4000);
    expect(['a', 'b', 'c', 'd'].map((x) => r.has(x, t0 + 4000))).toEqual([true, false, true, true]);
  });

  it('a sibling\'s newer sighting extends the window; the same one again changes nothing', () => {
    const r = new RecentClients(10_000, 2);
    r.remember('a', t0);
    r.remember('b', t0);
    r.remember('a', t0); // the same news: a stays the oldest
    r.remember('c', t0);
    expect(['a', 'b', 'c'].map((x) => r.has(x, t0))).toEqual([false, true, true]);
    r.remember('b', t0 + 5000);
    expect([r.has('b', t0 + 15_000), r.has('c', t0 + 15_000)]).toEqual([true, false]);
  });

  it('a client first remembered from a sibling is shared by this process only after half a window', () => {
    const r = new RecentClients(10_000, 10);
    let shared = 0;
    r.onShare = () => { shared++; };
    r.remember('a', t0);
    r.remember('a', t0 + 3000);
    r.touch('a', t0 + 4000); // 4 s after the sibling shared it: not yet
    r.touch('a', t0 + 5000); // half a window after the first sighting
    expect(shared).toBe(1);
  });

  it('remembers a client a sibling saw, never moving it back in time', () => {
    const r = new RecentClients(10_000, 10);
    r.remember('a', t0 + 5000);
    r.remember('a', t0); // older news: ignored
    expect([r.has('a', t0 + 15_000), r.has('a', t0 + 15_001)]).toEqual([true, false]);
  });
});

describe('egress: the replies of a batch', () => {
  /** A port that sends many at once, as a listener does: each call recorded; `refuse` indexes refused. */
  function batchPort(name: string, refuse: number[] = [], tunnelled = false) {
    const p = port(name, 4, undefined, tunnelled ? { tunnelled } : {});
    const calls: string[][] = [];
    return Object.assign(p, {
      calls,
      transmitMany: (list: readonly { data: Uint8Array; address: string; port: number }[], refused: (i: number) => void) => {
        calls.push(list.map((d) => `${d.address}|${d.port}|${Buffer.from(d.data).toString()}`));
        for (const i of refuse) refused(i);
      },
    });
  }

  it('leave in one send per listener, in order; each counted as reply() counts it', async () => {
    const { egress, codec, refused, sentCount, sentBytes } = setup();
    const a = batchPort('a'), b = batchPort('b');
    egress.attach(a);
    egress.attach(b);
    const to = (l: string, p: number, data: string) => ({ tag: codec.encode(l, { address: '127.0.0.1', port: p }, t0), data: Buffer.from(data) });
    egress.replies([to('a', 1, 'a1'), to('b', 2, 'b1'), { tag: 'not-a-tag', data: Buffer.from('x') }, to('a', 3, 'a22'), to('gone', 4, 'g'), to('b', 2, 'b2')]);
    expect(a.calls).toEqual([['127.0.0.1|1|a1', '127.0.0.1|3|a22']]);
    expect(b.calls).toEqual([['127.0.0.1|2|b1', '127.0.0.1|2|b2']]);
    expect(a.sent).toEqual([]); // not one transmit per reply
    expect([await sentCount('a', 'reply'), await sentBytes('a', 'reply'), await sentCount('b', 'reply'), await sentBytes('b', 'reply')]).toEqual([2, 5, 2, 4]);
    expect(await refused('reply', 'tag-malformed')).toBe(1);
    expect(await refused('reply', 'unknown-listener')).toBe(1);
  });

  it('a datagram the socket refused is counted as refused, its bytes not as sent', async () => {
    const { egress, codec, refused, sentCount, sentBytes } = setup();
    const a = batchPort('a', [1]);
    egress.attach(a);
    const to = (p: number, data: string) => ({ tag: codec.encode('a', { address: '127.0.0.1', port: p }, t0), data: Buffer.from(data) });
    egress.replies([to(1, 'one'), to(2, 'twenty-two'), to(3, 'three')]);
    expect(a.calls.length).toBe(1);
    expect([await sentCount('a', 'reply'), await sentBytes('a', 'reply'), await refused('reply', 'transport-refused')]).toEqual([2, 8, 1]);
  });

  it('a tunnelled listener (WireGuard) gets each reply through its protocol, one at a time', async () => {
    const { egress, codec, sentCount } = setup();
    const w = batchPort('wg', [], true);
    egress.attach(w);
    const to = (p: number) => ({ tag: codec.encode('wg', { address: '10.9.0.2', port: p }, t0), data: Buffer.from('r') });
    egress.replies([to(1), to(2)]);
    expect(w.calls).toEqual([]);
    expect(w.sent.map((s) => s.to)).toEqual(['10.9.0.2|1', '10.9.0.2|2']);
    expect(await sentCount('wg', 'reply')).toBe(2);
  });
});

describe('egress: proxy replies of one pass', () => {
  it('leave together at the end of the pass, in one send per listener, in order, counted', async () => {
    const { egress, sentCount, sentBytes, refused } = setup();
    const calls: string[][] = [];
    const edge: EgressPort = {
      ...port('edge', 4),
      transmitMany: (list, refusedAt) => { calls.push(list.map((d) => `${d.port}|${Buffer.from(d.data).toString()}`)); if (list.length > 2) refusedAt(2); },
    };
    egress.attach(edge);
    for (const [p, d] of [[1, 'a'], [1, 'bb'], [2, 'ccc'], [1, 'd']] as const) egress.sendToClient('edge', { address: '127.0.0.1', port: p }, Buffer.from(d));
    expect(calls).toEqual([]); // not yet: the pass goes on
    await Promise.resolve();
    expect(calls).toEqual([['1|a', '1|bb', '2|ccc', '1|d']]);
    expect([await sentCount('edge', 'proxy'), await sentBytes('edge', 'proxy'), await refused('proxy', 'transport-refused')]).toEqual([3, 4, 1]);
    egress.sendToClient('edge', { address: '127.0.0.1', port: 1 }, Buffer.from('e')); // a later pass: a send of its own
    await Promise.resolve();
    expect(calls.length).toBe(2);
  });
});
