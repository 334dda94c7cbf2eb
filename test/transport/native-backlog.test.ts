/**
 * The native transport's send backlog (EAGAIN) on a fake addon: on loopback the kernel never makes
 * a UDP socket wait, so the would-block path is driven here by a socket that accepts only a budget.
 */
import { describe, expect, it } from 'vitest';
import type { Datagram } from '../../gateway/packet.js';
import { META_WORDS, SEND, type NativeAddon, type NativeSocketOptions } from '../../net/native-addon.js';
import { NativeTransport } from '../../net/native.js';

class FakeSocket {
  static last: FakeSocket;
  readonly sent: string[] = [];
  budget = Number.POSITIVE_INFINITY;
  watching = 0;
  constructor(
    readonly opts: NativeSocketOptions, readonly recvMeta: Uint32Array, readonly payload: Uint8Array,
    readonly meta: Uint32Array, readonly status: Int32Array,
    readonly onRead: (count: number, batch: Buffer | undefined, errno: number) => void, readonly onWritable: () => void,
  ) { FakeSocket.last = this; }
  local(): [string, number] { return ['127.0.0.1', 5000]; }
  startReading(): void {}
  stopReading(): void {}
  watchWritable(): void { this.watching++; }
  close(): void {}
  send(count: number): number {
    const n = Math.min(count, this.budget);
    for (let i = 0; i < n; i++) {
      const off = this.meta[i * META_WORDS + SEND.offset]!, len = this.meta[i * META_WORDS + SEND.len]!;
      this.sent.push(Buffer.from(this.payload.subarray(off, off + len)).toString());
    }
    this.budget -= n;
    this.status[0] = 0; this.status[1] = 0;
    return n;
  }
}

const fakeAddon: NativeAddon = {
  UdpSocket: FakeSocket,
  UdpGroup: class { },
  UdpSession: class { constructor() { throw new Error('not used here'); } } as unknown as NativeAddon['UdpSession'],
  pton: (text, words) => { if (text !== '127.0.0.1') return 0; words[0] = 0x0100007f; return 4; },
  ntop: () => '127.0.0.1',
  META_WORDS, MAX_SLOTS: 1024,
};

function setup() {
  const errors: Error[] = [];
  const t = new NativeTransport(fakeAddon, { host: '127.0.0.1', port: 0, maxDatagramBytes: 1500 }, () => {}, (e) => errors.push(e));
  return { t, sock: FakeSocket.last, errors };
}

const dgrams = (from: number, n: number): Datagram[] =>
  Array.from({ length: n }, (_, i) => ({ data: Buffer.from(`d${from + i}`), address: '127.0.0.1', port: 7000 }));
const names = (from: number, n: number) => Array.from({ length: n }, (_, i) => `d${from + i}`);

describe('native transport send backlog', () => {
  it('keeps what would block, in order, behind later sends, and sends it when writable', () => {
    const { t, sock } = setup();
    sock.budget = 3;
    t.sendDatagrams(dgrams(0, 5));
    expect(sock.sent).toEqual(names(0, 3));
    expect(sock.watching).toBe(1);
    t.sendDatagrams(dgrams(5, 2));
    expect(sock.sent).toHaveLength(3);
    sock.budget = Number.POSITIVE_INFINITY;
    sock.onWritable();
    expect(sock.sent).toEqual(names(0, 7));
  });

  it('a batch spanning several send slabs resumes where the socket stopped', () => {
    const { t, sock } = setup();
    sock.budget = 1100;
    t.sendDatagrams(dgrams(0, 1500));
    expect(sock.sent).toEqual(names(0, 1100));
    sock.budget = Number.POSITIVE_INFINITY;
    sock.onWritable();
    expect(sock.sent).toEqual(names(0, 1500));
  });

  it('drops and counts beyond the backlog limit; close forgets the backlog', async () => {
    const { t, sock, errors } = setup();
    sock.budget = 0;
    t.sendDatagrams(dgrams(0, 16384 + 6));
    expect(t.stats.backlogDropped).toBe(6);
    await t.close();
    sock.budget = Number.POSITIVE_INFINITY;
    sock.onWritable();
    expect(sock.sent).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('an unparseable address is refused before the addon and reported once', () => {
    const { t, sock, errors } = setup();
    t.sendDatagrams([...dgrams(0, 1), { data: Buffer.from('x'), address: 'nowhere', port: 7000 }, ...dgrams(1, 1)]);
    expect(sock.sent).toEqual(['d0', 'd1']);
    expect(t.stats.refused).toBe(1);
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['EINVAL']);
  });
});
