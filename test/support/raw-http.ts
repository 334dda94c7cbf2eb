/** A raw TCP client for HTTP endpoints: send headers and trickle a body byte by byte, see when the server closes. */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent. */
  response(): string;
  /** Resolves when the server closed the connection (or rejects after `ms`). */
  closed(ms: number): Promise<void>;
  /** Resolves when a response has started arriving (or rejects after `ms`). */
  answered(ms: number): Promise<string>;
  /** Sends one body byte every `everyMs` until the connection closes or `max` bytes went out. */
  trickle(everyMs: number, max: number): void;
}

export async function rawConnect(port: number, head = ''): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  let isClosed = false;
  const waiters: (() => void)[] = [];
  socket.on('data', (d) => { text += d.toString(); waiters.splice(0).forEach((w) => w()); });
  socket.on('error', () => undefined);
  socket.on('close', () => { isClosed = true; waiters.splice(0).forEach((w) => w()); });
  if (head) socket.write(head);
  const until = (done: () => boolean, ms: number, what: string) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} not within ${ms} ms; got ${JSON.stringify(text.slice(0, 80))}`)), ms);
    const check = () => { if (done()) { clearTimeout(t); resolve(); } else waiters.push(check); };
    check();
  });
  return {
    socket,
    response: () => text,
    closed: (ms) => until(() => isClosed, ms, 'server close'),
    answered: async (ms) => { await until(() => text.length > 0 || isClosed, ms, 'a response'); return text; },
    trickle(everyMs, max) {
      let sent = 0;
      const timer = setInterval(() => {
        if (isClosed || socket.destroyed || sent >= max) { clearInterval(timer); return; }
        socket.write('x'); sent++;
      }, everyMs);
      socket.on('close', () => clearInterval(timer));
    },
  };
}

export const postHead = (path: string, length: number, headers: Record<string, string> = {}) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
