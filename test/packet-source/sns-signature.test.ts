import { describe, expect, it } from 'vitest';
import { createSignatureVerifier } from '../../packet-source/sns-http/sns-signature.js';
import { canonicalString, checkSnsUrl, parseSnsEnvelope, type SnsEnvelope } from '../../packet-source/sns-http/sns-envelope.js';
import { DEFAULT_CERTIFICATE_HOST_PATTERN } from '../../packet-source/sns-http/index.js';
import { certFetcher, makeSigner, signedEnvelope } from './sns-fixtures.js';

const signer = makeSigner();
const other = makeSigner();
const pattern = new RegExp(DEFAULT_CERTIFICATE_HOST_PATTERN);

function envelope(raw: Record<string, string>): SnsEnvelope {
  const env = parseSnsEnvelope(JSON.stringify(raw));
  if (env instanceof Error) throw env;
  return env;
}

describe('SNS canonical string', () => {
  it('orders Notification keys and includes Subject only when present', () => {
    const base = { Type: 'Notification', MessageId: 'm', TopicArn: 't', Message: 'hi', Timestamp: '2026-01-01T00:00:00Z' } as SnsEnvelope;
    expect(canonicalString(base)).toBe('Message\nhi\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00Z\nTopicArn\nt\nType\nNotification\n');
    expect(canonicalString({ ...base, Subject: 's' })).toBe('Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\n2026-01-01T00:00:00Z\nTopicArn\nt\nType\nNotification\n');
  });

  it('orders SubscriptionConfirmation keys with SubscribeURL and Token', () => {
    const env = { Type: 'SubscriptionConfirmation', MessageId: 'm', TopicArn: 't', Message: 'x', Timestamp: 'T', SubscribeURL: 'u', Token: 'k' } as SnsEnvelope;
    expect(canonicalString(env)).toBe('Message\nx\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nT\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n');
  });
});

describe('SNS signature verification', () => {
  for (const version of ['1', '2'] as const) {
    it(`accepts SignatureVersion ${version} and refuses a tampered message`, async () => {
      const certs = certFetcher(signer.certPem);
      const verify = createSignatureVerifier({ hostPattern: pattern, fetchCertificate: certs.fetch });
      const raw = signedEnvelope(signer, { message: '{"Messages":[]}', signatureVersion: version, subject: 'hello' });
      expect(await verify(envelope(raw))).toEqual({ ok: true });
      const tampered = await verify(envelope({ ...raw, Message: '{"Messages":[{"x":1}]}' }));
      expect(tampered).toMatchObject({ ok: false, reason: 'signature' });
      expect(certs.urls).toEqual([raw.SigningCertURL]); // fetched once, cached by URL
    });
  }

  it('accepts a signed SubscriptionConfirmation and refuses a changed SubscribeURL', async () => {
    const verify = createSignatureVerifier({ hostPattern: pattern, fetchCertificate: certFetcher(signer.certPem).fetch });
    const raw = signedEnvelope(signer, { type: 'SubscriptionConfirmation', message: 'confirm' });
    expect(await verify(envelope(raw))).toEqual({ ok: true });
    const evil = { ...raw, SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=other' };
    expect(await verify(envelope(evil))).toMatchObject({ ok: false, reason: 'signature' });
  });

  it('refuses a signature made with another key', async () => {
    const verify = createSignatureVerifier({ hostPattern: pattern, fetchCertificate: certFetcher(signer.certPem).fetch });
    const raw = signedEnvelope(other, { message: 'x' });
    expect(await verify(envelope(raw))).toMatchObject({ ok: false, reason: 'signature' });
  });

  it('refuses certificate URLs on a wrong host or over http, without fetching them', async () => {
    const certs = certFetcher(signer.certPem);
    const verify = createSignatureVerifier({ hostPattern: pattern, fetchCertificate: certs.fetch });
    for (const certUrl of ['https://evil.example.com/cert.pem', 'http://sns.us-east-1.amazonaws.com/cert.pem',
      'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem', 'https://sns.us-east-1.amazonaws.com:8443/c.pem']) {
      const check = await verify(envelope(signedEnvelope(signer, { message: 'x', certUrl })));
      expect(check).toMatchObject({ ok: false, reason: 'cert-url' });
    }
    expect(certs.urls).toEqual([]);
  });

  it('refuses an unknown SignatureVersion and a failed certificate fetch', async () => {
    const verify = createSignatureVerifier({ hostPattern: pattern, fetchCertificate: async () => { throw new Error('HTTP 404'); } });
    const raw = signedEnvelope(signer, { message: 'x' });
    expect(await verify(envelope({ ...raw, SignatureVersion: '3' }))).toMatchObject({ ok: false, reason: 'signature-version' });
    expect(await verify(envelope(raw))).toMatchObject({ ok: false, reason: 'cert-fetch', detail: 'HTTP 404' });
  });

  it('refuses a certificate outside its validity period', async () => {
    const verify = createSignatureVerifier({ hostPattern: pattern, fetchCertificate: certFetcher(signer.certPem).fetch, now: () => Date.now() + 10 * 86_400_000 });
    expect(await verify(envelope(signedEnvelope(signer, { message: 'x' })))).toMatchObject({ ok: false, reason: 'cert-invalid' });
  });
});

describe('SNS URL and envelope checks', () => {
  it('accepts the China partition host and refuses credentials', () => {
    expect(checkSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem', pattern)).toBeInstanceOf(URL);
    expect(checkSnsUrl('https://user:pw@sns.us-east-1.amazonaws.com/x.pem', pattern)).toBeInstanceOf(Error);
  });

  it('names the missing field of a malformed envelope', () => {
    expect((parseSnsEnvelope('{"Type":"Notification"}') as Error).message).toBe('MessageId is missing or not a string');
    expect((parseSnsEnvelope('{"Type":"Other"}') as Error).message).toMatch(/^Type must be one of/);
    expect((parseSnsEnvelope('not json') as Error).message).toBe('body is not JSON');
  });
});
