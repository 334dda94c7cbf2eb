/**
 * A tiny HTTP proxy on 127.0.0.1:0 in front of moto that records the request bodies it forwards,
 * so a test can read back exactly what a destination put on the wire (for APIs where moto keeps
 * no readable copy, e.g. Lambda Invoke payloads).
 */
import { createServer, request, type Server } from 'node:http';

export interface RecordingProxy {
  readonly endpoint: string;
  /** Bodies of requests whose path matched `pathPattern`, in arrival order. */
  readonly bodies: Buffer[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string, pathPattern: RegExp): Promise<RecordingProxy> {
  const t = new URL(target);
  const bodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (pathPattern.test(req.url ?? '')) bodies.push(body);
      const fwd = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => { res.writeHead(502); res.end(); });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
