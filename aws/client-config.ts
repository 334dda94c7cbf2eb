/**
 * Shared AWS SDK v3 client configuration for every AWS destination.
 *
 * - Region and credentials come from the standard AWS chain (env, shared config, SSO, IMDS, …)
 *   unless `region` is given.
 * - `endpoint` overrides the service endpoint; without it the SDK honours AWS_ENDPOINT_URL and
 *   AWS_ENDPOINT_URL_<SERVICE ID> (e.g. AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS).
 *   The key is left out entirely when not configured, so the environment still applies.
 * - Transport: HTTP/1.1 with keep-alive through NodeHttpHandler for every client. Some versions of
 *   the Kinesis client default to HTTP/2 (NodeHttp2Handler); passing our handler forces HTTP/1.1.
 * - SDK retries are off (maxAttempts 1): the gateway's retry wrapper is the one retry layer, so
 *   attempts, backoff and dead-lettering are configured and counted in one place.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsConnectionOptions } from './connection-schema.js';

export { AwsConnectionSchema, type AwsConnectionOptions } from './connection-schema.js';



export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  requestHandler: NodeHttpHandler;
  maxAttempts: number;
}

/** One keep-alive HTTP/1.1 handler per client. Destroyed with the client (client.destroy()). */
export function keepAliveHandler(): NodeHttpHandler {
  // Bounded sockets per client; idle sockets reused (AWS closes idle connections after ~20 s at most).
  const agentOptions = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 64 };
  return new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
  });
}

export function awsClientConfig(o: AwsConnectionOptions): AwsClientConfig {
  const cfg: AwsClientConfig = { requestHandler: keepAliveHandler(), maxAttempts: 1 };
  if (o.region) cfg.region = o.region;
  if (o.endpoint) cfg.endpoint = o.endpoint;
  return cfg;
}

/** An idempotent close() for a destination that owns one SDK client: destroys its sockets once. */
export function closeOnce(client: { destroy(): void }): () => Promise<void> {
  let closed = false;
  return async () => { if (!closed) { closed = true; client.destroy(); } };
}
