/**
 * Limits of the HTTP endpoints that take out-of-band documents (the public SNS endpoint, the admin
 * API): a slow or idle client cannot hold a connection (and its file descriptor) for long, and the
 * number of open connections is capped. A Fastify `serverFactory` that builds node:http's server with
 * them, so both endpoints get the same behaviour.
 *
 *   requestTimeoutMs   whole request (headers and body) must arrive within it, else 408 and close
 *                      (node:http requestTimeout; headersTimeout the same; checked every ≤ 1 s)
 *   maxConnections     open connections at once; one more is closed on accept (net.Server.maxConnections)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpLimits {
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({ requestTimeoutMs: 10_000, maxConnections: 256 });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A Fastify serverFactory applying `limits`. */
export function limitedHttpServer(limits: HttpLimits): (handler: Handler) => Server {
  return (handler) => {
    const t = limits.requestTimeoutMs;
    const server = createServer({
      requestTimeout: t,
      headersTimeout: t,
      // node:http checks the two timeouts above on this interval (default 30 s, far past a short timeout).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(t / 2))),
      keepAliveTimeout: Math.min(5_000, t),
    }, handler);
    server.maxConnections = limits.maxConnections;
    // A connection that sends nothing at all: closed after the same time without a byte.
    server.setTimeout(t, (socket) => socket.destroy());
    return server;
  };
}
