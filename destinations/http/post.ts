/** One JSON POST over a keep-alive agent, with a timeout, an abort signal and a bounded response body. */
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
  /** The body was longer than the limit; reading stopped (the body is not usable). */
  readonly truncated: boolean;
}

export class HttpTimeoutError extends Error {
  constructor(ms: number) { super(`no answer within ${ms} ms`); this.name = 'HttpTimeoutError'; }
}

export interface PostOptions {
  readonly agent: http.Agent;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

export function createAgent(url: URL): http.Agent {
  const Agent = url.protocol === 'https:' ? https.Agent : http.Agent;
  return new Agent({ keepAlive: true, keepAliveMsecs: 1_000 });
}

export function postJson(url: URL, body: Buffer, opts: PostOptions, signal: AbortSignal): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: 'POST',
      agent: opts.agent,
      headers: { ...opts.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => req.destroy(new HttpTimeoutError(opts.timeoutMs)), opts.timeoutMs);
    const onAbort = (): void => { req.destroy(new Error('aborted')); };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); };
    const fail = (err: Error): void => { settle(); reject(err); };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('error', fail);
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= opts.maxResponseBytes) { chunks.push(chunk); return; }
        settle();
        res.destroy();
        resolve({ status: res.statusCode ?? 0, body: Buffer.alloc(0), truncated: true });
      });
      res.on('end', () => { settle(); resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), truncated: false }); });
    });
    if (signal.aborted) onAbort();
    req.end(body);
  });
}
