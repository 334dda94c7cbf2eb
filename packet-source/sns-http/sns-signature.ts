/**
 * SNS signature verification: the SigningCertURL must be https on an SNS host, the certificate is fetched
 * once per URL (cached, bounded) and must be within its validity period, and the signature must verify
 * over the canonical string with the digest its SignatureVersion names. A failed fetch is remembered
 * for `failureCacheMs` (no refetch per request), and at most `maxFetchesPerMinute` fetches are made,
 * so requests naming certificate URLs cannot turn the endpoint into a source of outbound requests.
 */
import { X509Certificate, verify } from 'node:crypto';
import { get } from 'node:https';
import { canonicalString, checkSnsUrl, signatureDigest, type SnsEnvelope } from './sns-envelope.js';

/** Fetches a PEM certificate. The default is an https GET; tests inject a local one. */
export type CertificateFetcher = (url: URL) => Promise<string>;

export type SignatureRefusal = 'cert-url' | 'cert-fetch' | 'cert-invalid' | 'signature-version' | 'signature';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureRefusal; detail: string };

export interface SignatureVerifierOptions {
  readonly hostPattern: RegExp;
  readonly fetchCertificate?: CertificateFetcher;
  /** Certificates kept (by URL). SNS rotates its signing certificate rarely; a few suffice. */
  readonly cacheSize?: number;
  /** How long a failed fetch is answered from the cache (default 60 s). */
  readonly failureCacheMs?: number;
  /** Fetches of certificates not in the cache, per minute (default 10). */
  readonly maxFetchesPerMinute?: number;
  readonly now?: () => number;
}

export type SignatureVerifier = (env: SnsEnvelope) => Promise<SignatureCheck>;

const MAX_PEM_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 5_000;

export function createSignatureVerifier(opts: SignatureVerifierOptions): SignatureVerifier {
  const fetchCertificate = opts.fetchCertificate ?? httpsGetText;
  const now = opts.now ?? Date.now;
  const max = opts.cacheSize ?? 16;
  const failureMs = opts.failureCacheMs ?? 60_000;
  const perMinute = opts.maxFetchesPerMinute ?? 10;
  /** By URL: the certificate (or its fetch), or a failure until `until`. */
  const cache = new Map<string, { cert: Promise<X509Certificate>; until: number }>();
  let fetches: number[] = [];

  function certificate(url: URL): Promise<X509Certificate> {
    const key = url.href, t = now();
    const hit = cache.get(key);
    if (hit && hit.until > t) return hit.cert;
    fetches = fetches.filter((at) => at > t - 60_000);
    if (fetches.length >= perMinute) return Promise.reject(new Error(`more than ${perMinute} certificate fetches in a minute: ${key} not fetched`));
    fetches.push(t);
    const entry = { cert: fetchCertificate(url).then((pem) => new X509Certificate(pem)), until: Infinity };
    entry.cert.catch(() => { entry.until = now() + failureMs; });
    cache.delete(key);
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(key, entry);
    return entry.cert;
  }

  return async (env) => {
    const digest = signatureDigest(env.SignatureVersion);
    if (!digest) return refuse('signature-version', `SignatureVersion ${env.SignatureVersion} is not 1 or 2`);
    const url = checkSnsUrl(env.SigningCertURL, opts.hostPattern);
    if (url instanceof Error) return refuse('cert-url', `SigningCertURL ${url.message}`);
    let cert: X509Certificate;
    try { cert = await certificate(url); } catch (err) { return refuse('cert-fetch', (err as Error).message); }
    const t = now();
    if (Date.parse(cert.validFrom) > t || Date.parse(cert.validTo) < t) return refuse('cert-invalid', 'certificate is outside its validity period');
    const signature = Buffer.from(env.Signature, 'base64');
    let good = false;
    try { good = verify(digest, Buffer.from(canonicalString(env), 'utf8'), cert.publicKey, signature); } catch { good = false; }
    return good ? { ok: true } : refuse('signature', 'signature does not verify');
  };
}

function refuse(reason: SignatureRefusal, detail: string): SignatureCheck { return { ok: false, reason, detail }; }

/** https GET of a small text body, with a timeout and a size cap. */
export function httpsGetText(url: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: FETCH_TIMEOUT_MS }, (res) => {
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`GET ${url.href}: HTTP ${res.statusCode}`)); return; }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_PEM_BYTES) { req.destroy(new Error(`GET ${url.href}: body over ${MAX_PEM_BYTES} bytes`)); return; }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href}: timed out`)));
    req.on('error', reject);
  });
}
