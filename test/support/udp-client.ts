/** A real UDP client on 127.0.0.1 (or ::1) that records what it receives. */
import { createSocket, type Socket } from 'node:dgram';

export interface Received { data: Buffer; address: string; port: number }

export class UdpClient {
  readonly received: Received[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (data, r) => {
      this.received.push({ data, address: r.address, port: r.port });
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async open(host = '127.0.0.1'): Promise<UdpClient> {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    return new UdpClient(s);
  }

  get port(): number { return this.socket.address().port; }

  send(data: Buffer | string, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, host, (e) => (e ? reject(e) : resolve())));
  }

  /** Wait until `n` datagrams have arrived in all, or fail after `ms`. */
  async waitFor(n: number, ms = 5000): Promise<Received[]> {
    const deadline = Date.now() + ms;
    while (this.received.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} datagrams, got ${this.received.length} within ${ms} ms`);
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
    return this.received.slice(0, n);
  }

  close(): Promise<void> { return new Promise((r) => this.socket.close(() => r())); }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns true, or fail after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
