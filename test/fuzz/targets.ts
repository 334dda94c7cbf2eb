/**
 * Fuzz targets: one arbitrary (fast-check) and one check per parser that takes outside input. A check
 * throws when the property breaks. test/fuzz/properties.test.ts runs each for a few seconds with a
 * fixed seed in `npm test`; test/fuzz/run.ts (`npm run fuzz`) runs each for a million inputs or more.
 */
import fc from 'fast-check';
import { isIP } from 'node:net';
import { sign } from 'node:crypto';
import '../support/memory-destination.js';
import { createTagCodec } from '../../gateway/tag.js';
import { parseReplies } from '../../gateway/wire/event.js';
import { parseEgressDocument } from '../../gateway/wire/egress-message.js';
import { canonicalString, checkSnsUrl, parseSnsEnvelope, type SnsEnvelope } from '../../packet-source/sns-http/sns-envelope.js';
import { createSignatureVerifier, type SignatureVerifier } from '../../packet-source/sns-http/sns-signature.js';
import { unwrapSqsBody } from '../../packet-source/sqs/sqs-body.js';
import { applyEnv, resolveConfig } from '../../app/config/load.js';
import { ConfigError } from '../../gateway/errors.js';
import { makeSigner, CERT_URL, TOPIC } from '../packet-source/sns-fixtures.js';

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws when the property does not hold for `input`. */
  check(input: T): void | Promise<void>;
  /** Inputs in the fixed-seed run of `npm test` (a few seconds). */
  readonly testRuns: number;
}

function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

const target = <T>(t: FuzzTarget<T>): FuzzTarget => t as unknown as FuzzTarget;

// ---------------------------------------------------------------------------------------------
// Tags: decode never throws; only the exact encoding of a signed body verifies; encode round-trips.
const secret = Buffer.from('fuzz-secret-0123456789abcdef-0123');
const T0 = 1_800_000_000_000;
const codec = createTagCodec({ secret, replyWindowMs: 60_000, now: () => T0 });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));
const listenerName = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme-ascii' });
const validTag = fc.record({ name: listenerName, address: fc.oneof(ipv4, ipv6), port: fc.nat(65535), age: fc.integer({ min: -59_000, max: 60_000 }) });
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const mutation = fc.record({ at: fc.nat(), char: fc.constantFrom(...B64, '=', '.', ' ', '/', '+'), kind: fc.constantFrom('replace', 'insert', 'delete', 'truncate', 'append') });

function mutate(s: string, m: { at: number; char: string; kind: string }): string {
  const i = s.length ? m.at % s.length : 0;
  switch (m.kind) {
    case 'replace': return s.slice(0, i) + m.char + s.slice(i + 1);
    case 'insert': return s.slice(0, i) + m.char + s.slice(i);
    case 'delete': return s.slice(0, i) + s.slice(i + 1);
    case 'truncate': return s.slice(0, i);
    default: return s + m.char;
  }
}

const tags = target({
  name: 'tag codec',
  testRuns: 20_000,
  arbitrary: fc.oneof(
    fc.record({ tag: validTag, mutations: fc.array(mutation, { maxLength: 3 }) }),
    fc.record({ raw: fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: fc.constantFrom(...B64), maxLength: 400 })) }),
  ),
  check(input: { tag?: { name: string; address: string; port: number; age: number }; mutations?: { at: number; char: string; kind: string }[]; raw?: string }) {
    if (input.raw !== undefined) {
      const r = codec.decode(input.raw);
      assert(!r.ok, `an arbitrary string verified: ${input.raw}`);
      return;
    }
    const { name, address, port, age } = input.tag!;
    const tag = codec.encode(name, { address, port }, T0 - age);
    const r = codec.decode(tag);
    assert(r.ok && r.claims.listener === name && r.claims.remote.port === port && r.claims.issuedAt === T0 - age, `round trip failed for ${tag}`);
    assert(isIP(r.claims.remote.address) !== 0, `decoded address ${r.claims.remote.address} is not an IP`);
    const changed = input.mutations!.reduce(mutate, tag);
    if (changed !== tag) assert(!codec.decode(changed).ok, `a changed tag verified: ${tag} -> ${changed}`);
  },
});

// ---------------------------------------------------------------------------------------------
// Replies and egress documents: never throw; every accepted entry is well formed; every entry is
// either accepted or rejected with a reason.
const DOC_KEYS = ['Replies', 'Messages', 'Tag', 'Data', 'Formatter', 'Remote', 'Address', 'IP', 'IpAddress', 'Port', 'TtlSeconds', 'ExpiresAt', 'Listener', 'PeerKey', '__proto__', 'constructor', 'length'];
const docValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 65535, 65536, 1e308, NaN, '', 'aGVsbG8=', '127.0.0.1', '::1', 'hex', 'utf8', 'base64', 'zz', '2026-01-01T00:00:00Z'),
    fc.string({ maxLength: 20 }), fc.integer(), fc.double(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...DOC_KEYS), tie('value'), { maxKeys: 5 })),
})).value;
const docs = fc.oneof(docValue, docValue.map((v) => JSON.stringify(v) ?? ''), fc.string({ maxLength: 200 }));

const replies = target({
  name: 'replies (handler answers)',
  testRuns: 30_000,
  arbitrary: docValue,
  check(body: unknown) {
    const r = parseReplies(body);
    const list = body !== null && typeof body === 'object' ? (body as { Replies?: unknown }).Replies : undefined;
    for (const x of r.replies) assert(typeof x.tag === 'string' && x.tag.length > 0 && Buffer.isBuffer(x.data), 'a malformed reply was accepted');
    // null and missing entries mean "no reply for that message" (the reference service's handlers write them).
    if (Array.isArray(list)) assert(r.replies.length + r.rejected.length === list.filter((x) => x !== null && x !== undefined).length, 'a reply was neither accepted nor rejected');
  },
});

const egressDocuments = target({
  name: 'egress documents',
  testRuns: 30_000,
  arbitrary: docs,
  check(body: unknown) {
    const d = parseEgressDocument(body, { now: T0 });
    if (d instanceof Error) return;
    for (const p of d.packets) {
      assert(isIP(p.remote.address) !== 0, `accepted address ${p.remote.address}`);
      assert(Number.isInteger(p.remote.port) && p.remote.port >= 1 && p.remote.port <= 65535, `accepted port ${p.remote.port}`);
      assert(Buffer.isBuffer(p.data), 'data is not bytes');
      assert(p.expiresAt === undefined || Number.isFinite(p.expiresAt) || p.expiresAt === Infinity, 'expiry is not a time');
    }
  },
});

// ---------------------------------------------------------------------------------------------
// SNS envelopes: parsing never throws; an envelope that parses has a canonical string. Signatures:
// a genuine envelope verifies; any change to a signed field, the signature or the certificate URL
// does not; nothing throws.
const SNS_KEYS = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL', 'Subject', 'SubscribeURL', 'Token', 'UnsubscribeURL'];
const snsValue = fc.oneof(fc.constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation', '1', '2', '', '2026-01-01T00:00:00.000Z', CERT_URL, TOPIC), fc.string({ maxLength: 30 }), fc.constant(null), fc.integer());
const snsEnvelopes = target({
  name: 'SNS envelopes',
  testRuns: 30_000,
  arbitrary: fc.oneof(fc.dictionary(fc.constantFrom(...SNS_KEYS), snsValue, { maxKeys: 12 }), docs),
  check(body: unknown) {
    const env = parseSnsEnvelope(body);
    if (env instanceof Error) return;
    assert(typeof canonicalString(env) === 'string', 'no canonical string');
    assert(!Number.isNaN(Date.parse(env.Timestamp)), 'accepted an unparsable Timestamp');
  },
});

let signed: { envs: SnsEnvelope[]; verify: SignatureVerifier } | undefined;
function signedEnvelopes(): { envs: SnsEnvelope[]; verify: SignatureVerifier } {
  if (signed) return signed;
  const signer = makeSigner();
  const envs = Array.from({ length: 8 }, (_, i): SnsEnvelope => {
    const type = i % 4 === 3 ? 'SubscriptionConfirmation' : 'Notification';
    const env: Record<string, string> = {
      Type: type, MessageId: `id-${i}`, TopicArn: TOPIC, Message: `{"Data":"aGk=","Remote":{"IP":"127.0.0.1","Port":${1000 + i}}}`,
      Timestamp: new Date().toISOString(), SignatureVersion: i % 2 ? '1' : '2', SigningCertURL: CERT_URL, Signature: '',
      ...(i % 3 === 0 ? { Subject: `s${i}` } : {}),
      ...(type !== 'Notification' ? { SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Token=${i}`, Token: `t${i}` } : {}),
    };
    env.Signature = sign(env.SignatureVersion === '1' ? 'sha1' : 'sha256', Buffer.from(canonicalString(env as unknown as SnsEnvelope)), signer.keyPem).toString('base64');
    return env as unknown as SnsEnvelope;
  });
  const verify = createSignatureVerifier({ hostPattern: SNS_HOST, fetchCertificate: async () => signer.certPem, maxFetchesPerMinute: 1_000_000 });
  return (signed = { envs, verify });
}

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com$/;
const NOTIFICATION_SIGNED: readonly string[] = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type', 'Signature', 'SignatureVersion', 'SigningCertURL'];
const CONFIRMATION_SIGNED: readonly string[] = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type', 'Signature', 'SignatureVersion', 'SigningCertURL'];
const SIGNED_FIELDS = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'Subject', 'SubscribeURL', 'Token', 'Signature', 'SignatureVersion', 'SigningCertURL'] as const;
const snsSignatures = target({
  name: 'SNS signatures',
  testRuns: 5_000,
  arbitrary: fc.record({ which: fc.nat(7), field: fc.constantFrom(...SIGNED_FIELDS), m: mutation, keep: fc.boolean() }),
  async check(input: { which: number; field: (typeof SIGNED_FIELDS)[number]; m: { at: number; char: string; kind: string }; keep: boolean }) {
    const { envs, verify } = signedEnvelopes();
    const env = envs[input.which]!;
    if (input.keep) {
      const r = await verify(env);
      assert(r.ok, `a genuine envelope did not verify: ${JSON.stringify(r)}`);
      return;
    }
    const signedHere = env.Type === 'Notification' ? NOTIFICATION_SIGNED : CONFIRMATION_SIGNED;
    if (!signedHere.includes(input.field)) return; // not covered by this type's signature
    const before = (env as unknown as Record<string, string | undefined>)[input.field];
    const after = mutate(before ?? '', input.m);
    const changed = { ...env, [input.field]: after } as SnsEnvelope;
    if (before === after || (before === undefined && after === '')) return;
    // base64 decoding ignores what is not base64 (and padding): a Signature whose bytes did not change still verifies.
    if (input.field === 'Signature' && Buffer.from(after, 'base64').equals(Buffer.from(before ?? '', 'base64'))) return;
    // The test fetcher serves the one certificate at every URL: another URL that passes the host check verifies.
    if (input.field === 'SigningCertURL' && !(checkSnsUrl(after, SNS_HOST) instanceof Error)) return;
    const r = await verify(changed);
    assert(!r.ok, `a changed ${input.field} verified: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
  },
});

// ---------------------------------------------------------------------------------------------
// SQS bodies: never throw; an SNS envelope yields its Message string and a finite time.
const sqsBodies = target({
  name: 'SQS bodies',
  testRuns: 30_000,
  arbitrary: fc.record({ body: fc.option(fc.oneof(docs.map((d) => (typeof d === 'string' ? d : JSON.stringify(d) ?? '')), fc.dictionary(fc.constantFrom(...SNS_KEYS), snsValue).map((o) => JSON.stringify(o))), { nil: undefined }), sent: fc.option(fc.integer(), { nil: undefined }) }),
  check({ body, sent }: { body: string | undefined; sent: number | undefined }) {
    const r = unwrapSqsBody(body, sent, T0);
    if (r instanceof Error) return;
    assert(Number.isFinite(r.now), 'reference time is not finite');
    if (r.envelope === 'sns') assert(typeof r.document === 'string', 'an SNS envelope without its Message string');
  },
});

// ---------------------------------------------------------------------------------------------
// Config loading: any input ends in a frozen configuration or one ConfigError, never anything else.
const CONFIG_KEYS = ['listeners', 'destinations', 'name', 'port', 'host', 'type', 'memory', 'file', 'path', 'egress', 'allow', 'deny', 'admin', 'batch',
  'queue', 'maxPackets', 'retry', 'deadLetter', 'rateLimit', 'packetSources', 'secret', '__proto__', 'constructor', 'prototype', 'length', '0', '1', '65535', 'buffer'];
const configValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, 0, 1, -1, 65535, 1e9, 'memory', 'file', 'edge', '10.0.0.0/8', '127.0.0.1', '', 'x'.repeat(20)),
    fc.integer(), fc.string({ maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...CONFIG_KEYS), tie('value'), { maxKeys: 6 })),
})).value;
const goodBase = { listeners: [{ name: 'edge', port: 0, destinations: [{ type: 'memory' }] }] };
const envPath = fc.array(fc.constantFrom(...CONFIG_KEYS, '0', '1', '2', '99999999', ''), { minLength: 1, maxLength: 5 }).map((p) => `UDPGW_CONFIG__${p.join('__')}`);
const config = target({
  name: 'config loading',
  testRuns: 10_000,
  arbitrary: fc.record({
    raw: fc.oneof(configValue, configValue.map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...goodBase, ...v } : v))),
    env: fc.dictionary(fc.oneof(envPath, fc.constantFrom('UDPGW_PORT', 'UDPGW_HOST', 'UDPGW_SECRET', 'UDPGW_ADMIN_PORT')), fc.oneof(fc.string({ maxLength: 12 }), configValue.map((v) => JSON.stringify(v) ?? 'null')), { maxKeys: 3 }),
  }),
  check({ raw, env }: { raw: unknown; env: Record<string, string> }) {
    try {
      const c = resolveConfig(applyEnv(raw, env), '/tmp');
      assert(Object.isFrozen(c) && c.listeners.length > 0, 'a configuration without listeners, or not frozen');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${(err as Error)?.name}: ${(err as Error)?.message}`);
    }
    assert(({} as Record<string, unknown>).polluted === undefined && Object.keys(Object.prototype).length === 0, 'Object.prototype was changed');
  },
});

export const targets: readonly FuzzTarget[] = [tags, replies, egressDocuments, snsEnvelopes, snsSignatures, sqsBodies, config];
