/** A real HTTP endpoint on 127.0.0.1 for the http destination: records each event's packets; can be stopped and started again on the same port. */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

export class HttpSink {
  /** Data of every packet received, in arrival order (utf8). */
  readonly received: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Messages: { Data: string }[] };
        for (const m of body.Messages) this.received.push(Buffer.from(m.Data, 'base64').toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and cuts every open connection (an outage). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const c of this.sockets) c.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }

  close(): Promise<void> { return this.stop(); }
}
