/**
 * `sns-http` packet source: an HTTP endpoint that Amazon SNS delivers to (subscription protocol http/https).
 * Its own fastify server, meant to be publicly reachable (the admin API stays on 127.0.0.1); put TLS in front
 * of it (a load balancer or reverse proxy) for an https subscription.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { PacketSource, PacketSourceContext } from '../../gateway/plugin-kit.js';
import { createSnsHandler, type SnsHandler } from './sns-handler.js';
import { checkSnsUrl } from './sns-envelope.js';
import { createSignatureVerifier, httpsGetText, type CertificateFetcher } from './sns-signature.js';
import { ReplayWindow, limitedHttpServer, type HttpLimits } from '../../gateway/plugin-kit.js';
import { sourceMetrics } from '../../gateway/plugin-kit.js';
import { GatewayError } from '../../gateway/plugin-kit.js';

export { DEFAULT_CERTIFICATE_HOST_PATTERN, SnsHttpOptionsSchema, type SnsHttpOptions } from './options.js';
import type { SnsHttpOptions } from './options.js';

/** Injection points (tests, emulators). Defaults: https GETs and the host pattern check. */
export interface SnsHttpDeps {
  readonly fetchCertificate?: CertificateFetcher;
  readonly confirmSubscription?: (url: URL) => Promise<void>;
  /** Replaces the https + host pattern check of SubscribeURL. */
  readonly checkSubscribeUrl?: (raw: string) => URL | Error;
}

export interface SnsHttpSource extends PacketSource {
  /** Bound address after start(). */
  address(): { host: string; port: number } | undefined;
}

// An SNS message is at most 256 KiB; the JSON envelope adds the signature, URLs and escaping.
const BODY_LIMIT = 1024 * 1024;

export function createSnsHttpSource(name: string, options: SnsHttpOptions, ctx: PacketSourceContext, deps: SnsHttpDeps = {}): SnsHttpSource {
  const hostPattern = compilePattern(options.certificateHostPattern);
  const logger = ctx.logger.child({ packetSource: name, kind: 'sns-http' });
  const handle = createSnsHandler({
    source: name, listener: ctx.listener, egress: ctx.egress, logger, metrics: sourceMetrics(ctx.metrics),
    topicArns: options.topicArns,
    ...(options.verifySignatures ? { verify: createSignatureVerifier({ hostPattern, ...(deps.fetchCertificate ? { fetchCertificate: deps.fetchCertificate } : {}) }) } : {}),
    checkSubscribeUrl: deps.checkSubscribeUrl ?? ((raw) => checkSnsUrl(raw, hostPattern)),
    confirmSubscription: deps.confirmSubscription ?? (async (url) => { await httpsGetText(url); }),
    seen: new ReplayWindow(options.maxRememberedMessageIds, options.maxMessageAgeSeconds * 1000),
  });
  let app: FastifyInstance | undefined;
  let bound: { host: string; port: number } | undefined;

  return {
    async start() {
      app = buildServer(options.path, handle, { requestTimeoutMs: options.requestTimeoutMs, maxConnections: options.maxConnections });
      await app.listen({ host: options.host, port: options.port });
      const a = app.server.address();
      bound = a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
      logger.info({ ...bound, path: options.path, verifySignatures: options.verifySignatures }, 'SNS endpoint listening');
    },
    async close() { await app?.close(); app = undefined; },
    address: () => bound,
    status: () => ({ kind: 'sns-http', ...(bound ? { host: bound.host, port: bound.port } : {}), path: options.path, topicArns: options.topicArns }),
  };
}

function compilePattern(text: string): RegExp {
  try { return new RegExp(text); } catch (err) {
    throw new GatewayError('UGW_ERR_CONFIG_INVALID', `sns-http certificateHostPattern is not a regular expression: ${(err as Error).message}`, { cause: err });
  }
}

function buildServer(path: string, handle: SnsHandler, limits: HttpLimits): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, serverFactory: limitedHttpServer(limits) });
  // SNS posts JSON as text/plain; charset=UTF-8. Take every body as text and parse it ourselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post(path, async (req, reply) => {
    const header = req.headers['x-amz-sns-message-type'];
    const result = await handle(req.body ?? '', typeof header === 'string' ? header : undefined);
    return reply.code(result.status).send({ outcome: result.outcome });
  });
  return app;
}

