/**
 * The udp destination's native session sockets on a fake addon: grouping a batch into one send per
 * session, the errno of a refused datagram, and the would-block (EAGAIN) backlog, which loopback
 * never produces for UDP.
 */
import { describe, expect, it } from 'vitest';
import { META_WORDS, RECV, SEND, SEND_ERRNO, type NativeAddon } from '../../net/native-addon.js';
import { createNativeUpstreams } from '../../destinations/udp/native-upstream.js';
import type { Packet } from '../../gateway/packet.js';
import type { Backend } from '../../destinations/udp/backends.js';

class FakeGroup {
  static last: FakeGroup;
  constructor(readonly opts: unknown, readonly recvMeta: Uint32Array, readonly payload: Uint8Array,
    readonly meta: Uint32Array, readonly status: Int32Array) { FakeGroup.last = this; }
}

class FakeSession {
  static all: FakeSession[] = [];
  readonly sent: string[] = [];
  readonly calls: number[] = [];
  budget = Number.POSITIVE_INFINITY;
  refuse = new Set<string>();
  watching = 0;
  closed = false;
  constructor(readonly group: FakeGroup, readonly host: string, readonly port: number,
    readonly onRead: (count: number, batch: Buffer | undefined, errno: number) => void, readonly onWritable: () => void) {
    FakeSession.all.push(this);
  }
  local(): [string, number] { return ['127.0.0.1', 6000]; }
  startReading(): void {}
  stopReading(): void {}
  watchWritable(): void { this.watching++; }
  close(): void { this.closed = true; }
  send(count: number): number {
    const g = this.group;
    const n = Math.min(count, this.budget);
    let refused = 0;
    for (let i = 0; i < n; i++) {
      const b = i * META_WORDS;
      const text = Buffer.from(g.payload.subarray(g.meta[b + SEND.offset]!, g.meta[b + SEND.offset]! + g.meta[b + SEND.len]!)).toString();
      if (this.refuse.has(text)) { g.meta[b + SEND_ERRNO] = 90; refused++; } else this.sent.push(text);
    }
    this.calls.push(count);
    this.budget -= n;
    g.status[0] = refused; g.status[1] = refused ? 90 : 0;
    return n;
  }
}

const fakeAddon = { UdpGroup: FakeGroup, UdpSession: FakeSession } as unknown as NativeAddon;
const backend: Backend = { address: '127.0.0.1', port: 9999, family: 4, label: '127.0.0.1:9999' };
const pkt = (text: string, port: number): Packet => ({
  tag: 't', listener: 'edge', remote: { address: '127.0.0.1', port }, local: { address: '127.0.0.1', port: 5555 },
  receivedAt: 0, data: Buffer.from(text), formatter: 'base64',
});

function setup() {
  FakeSession.all = [];
  const replies: string[] = [];
  const up = createNativeUpstreams(fakeAddon);
  const links = new Map<number, ReturnType<typeof up.open>>();
  const sessionOf = (p: Packet) => {
    let l = links.get(p.remote.port);
    if (!l) { l = up.open(backend, { reply: (d) => replies.push(d.toString()), foreign: () => {}, error: () => {} }); links.set(p.remote.port, l); }
    return { upstream: l };
  };
  return { up, sessionOf, replies, links };
}

describe('native udp sessions (fake addon)', () => {
  it('sends each session\'s datagrams of a batch with one call, in order', async () => {
    const { up, sessionOf } = setup();
    const r = await up.relay([pkt('a1', 1), pkt('b1', 2), pkt('a2', 1), pkt('b2', 2), pkt('a3', 1)], sessionOf);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
    const [a, b] = FakeSession.all;
    expect([a!.sent, a!.calls, b!.sent, b!.calls]).toEqual([['a1', 'a2', 'a3'], [3], ['b1', 'b2'], [2]]);
    expect([a!.host, a!.port]).toEqual(['127.0.0.1', 9999]);
  });

  it('gives a refused datagram retryable with its errno, the others delivered', async () => {
    const { up, sessionOf } = setup();
    await up.relay([pkt('warm', 1)], sessionOf);
    FakeSession.all[0]!.refuse.add('big');
    const r = await up.relay([pkt('x', 1), pkt('big', 1), pkt('y', 1)], sessionOf);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'retryable', 'delivered']);
    expect((r.outcomes[1] as { reason: string }).reason).toBe('udp send failed: send EMSGSIZE');
    expect(up.stats.sendErrors).toBe(1);
  });

  it('keeps what would block, in order, and sends it when writable; later sends queue behind it', async () => {
    const { up, sessionOf } = setup();
    await up.relay([pkt('w', 1)], sessionOf);
    const s = FakeSession.all[0]!;
    s.budget = 2;
    const r = await up.relay([pkt('1', 1), pkt('2', 1), pkt('3', 1), pkt('4', 1)], sessionOf);
    expect(r.outcomes.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect([s.sent, s.watching]).toEqual([['w', '1', '2'], 1]);
    await up.relay([pkt('5', 1)], sessionOf);
    expect(s.sent).toEqual(['w', '1', '2']);
    s.budget = 1;
    s.onWritable();
    expect([s.sent, s.watching]).toEqual([['w', '1', '2', '3'], 3]);
    s.budget = Number.POSITIVE_INFINITY;
    s.onWritable();
    expect(s.sent).toEqual(['w', '1', '2', '3', '4', '5']);
  });

  it('relays each datagram of a received batch to the session', () => {
    const { up, sessionOf, replies } = setup();
    sessionOf(pkt('-', 1));
    const m = FakeGroup.last.recvMeta;
    m[RECV.len] = 2; m[META_WORDS + RECV.len] = 3;
    FakeSession.all[0]!.onRead(2, Buffer.from('hiyou'), 0);
    expect(replies).toEqual(['hi', 'you']);
    void up;
  });

  it('fails the packets of a closed session and sends nothing on it', async () => {
    const { up, sessionOf, links } = setup();
    await up.relay([pkt('a', 1)], sessionOf);
    await up.close(links.get(1)!);
    const r = await up.relay([pkt('b', 1)], sessionOf);
    expect(r.outcomes[0]).toMatchObject({ status: 'retryable' });
    expect([FakeSession.all[0]!.closed, FakeSession.all[0]!.sent]).toEqual([true, ['a']]);
  });
});
