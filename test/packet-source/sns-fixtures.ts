/** Test fixtures: a self-signed certificate (openssl) and SNS envelopes signed with its key. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, sign } from 'node:crypto';
import { canonicalString, type SnsEnvelope, type SnsMessageType } from '../../packet-source/sns-http/sns-envelope.js';

export interface TestSigner { readonly certPem: string; readonly keyPem: string }

/** node:crypto has no X.509 generator: openssl req -x509 in a temp dir. */
export function makeSigner(cn = 'sns.amazonaws.com'): TestSigner {
  const dir = mkdtempSync(join(tmpdir(), 'udpgw-sns-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'),
      '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
    return { certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

export const TOPIC = 'arn:aws:sns:us-east-1:123456789012:device-push';
export const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem';

export interface EnvelopeInput {
  type?: SnsMessageType; message: string; topicArn?: string; messageId?: string; subject?: string;
  timestamp?: string; signatureVersion?: '1' | '2'; certUrl?: string; subscribeUrl?: string;
}

export function signedEnvelope(signer: TestSigner, i: EnvelopeInput): Record<string, string> {
  const type = i.type ?? 'Notification';
  const env: Record<string, string> = {
    Type: type, MessageId: i.messageId ?? randomUUID(), TopicArn: i.topicArn ?? TOPIC, Message: i.message,
    Timestamp: i.timestamp ?? new Date().toISOString(), SignatureVersion: i.signatureVersion ?? '2',
    SigningCertURL: i.certUrl ?? CERT_URL, Signature: '',
  };
  if (i.subject !== undefined) env.Subject = i.subject;
  if (type !== 'Notification') {
    env.SubscribeURL = i.subscribeUrl ?? `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${env.TopicArn}&Token=tok`;
    env.Token = 'tok';
  }
  const digest = env.SignatureVersion === '1' ? 'sha1' : 'sha256';
  env.Signature = sign(digest, Buffer.from(canonicalString(env as unknown as SnsEnvelope)), signer.keyPem).toString('base64');
  return env;
}

/** A certificate fetcher serving one PEM and counting fetches. */
export function certFetcher(pem: string): { fetch: (url: URL) => Promise<string>; urls: string[] } {
  const urls: string[] = [];
  return { urls, fetch: async (url) => { urls.push(url.href); return pem; } };
}
