/** Real UDP clients and small waits for the transport tests (127.0.0.1 / ::1 only). */
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import type { Datagram } from '../../gateway/packet.js';

export interface Client {
  readonly socket: Socket;
  readonly port: number;
  readonly received: { data: Buffer; address: string; port: number }[];
  send(data: Buffer | string, port: number, address: string): Promise<void>;
}

export async function openClient(type: SocketType, host: string): Promise<Client> {
  const socket = createSocket(type);
  const received: Client['received'] = [];
  socket.on('message', (data, r) => received.push({ data, address: r.address, port: r.port }));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    socket, port: socket.address().port, received,
    send: (data, port, address) => new Promise<void>((resolve, reject) => socket.send(data, port, address, (err) => (err ? reject(err) : resolve()))),
  };
}

/** Closes a client; closing one already closed does nothing. */
export function closeClient(c: Client): Promise<void> {
  return new Promise((resolve) => { try { c.socket.close(() => resolve()); } catch { resolve(); } });
}

/** Polls until cond() holds; fails with `what` after timeoutMs. Bounded. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects batches handed over by a transport. */
export class Sink {
  readonly batches: Datagram[][] = [];
  readonly errors: Error[] = [];
  readonly onBatch = (b: Datagram[]): void => { this.batches.push(b); };
  readonly onError = (e: Error): void => { this.errors.push(e); };
  get all(): Datagram[] { return this.batches.flat(); }
  get count(): number { return this.batches.reduce((n, b) => n + b.length, 0); }
}
