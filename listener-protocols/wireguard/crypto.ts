/**
 * The WireGuard primitives (whitepaper §5.4 "Cryptographic Primitives"), each a thin wrapper over
 * node:crypto or @noble: X25519 and ChaCha20-Poly1305 and BLAKE2s-256 from node:crypto, keyed
 * BLAKE2s-128 (MAC) from @noble/hashes, XChaCha20-Poly1305 (cookies) from @noble/ciphers.
 * Nothing here implements a primitive by hand.
 */
import {
  createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey,
  diffieHellman, randomBytes, type KeyObject,
} from 'node:crypto';
import { blake2s } from '@noble/hashes/blake2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

export const KEY_LENGTH = 32;
export const TAG_LENGTH = 16; // Poly1305
export const MAC_LENGTH = 16; // BLAKE2s-128

// Raw X25519 private keys. OpenSSL 3 decodes PKCS#8 DER slowly (~1 ms a key); a JWK import is a
// raw import (~0.1 ms). For an OKP private key node reads `d` and only checks that `x` is a
// string; that is verified once below against RFC 7748 §6.1, with DER as the fallback.
// generateKeyPairSync is NOT used: in node 20 its job's destructor runs in a GC callback and
// takes the new key's mutex, which deadlocks the thread when that GC happens inside an export
// of the same key (seen as a hang in bench/wireguard.ts; gdb: ~KeyGenJob under ExportJWKEdKey).
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const UNUSED_X = 'A'.repeat(43);

function importJwkPrivate(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: UNUSED_X }, format: 'jwk' });
}

function importDerPrivate(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

const JWK_PRIVATE_IMPORT_READS_D = (() => {
  try {
    const alice = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    return rawPublicKey(importJwkPrivate(alice)).toString('hex') === '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  } catch {
    return false;
  }
})();

export function x25519PrivateKey(raw: Uint8Array): KeyObject {
  return JWK_PRIVATE_IMPORT_READS_D ? importJwkPrivate(raw) : importDerPrivate(raw);
}

/** A new random X25519 private key (X25519 clamps the scalar itself, RFC 7748 §5). */
export function generateEphemeral(): KeyObject {
  return x25519PrivateKey(randomBytes(KEY_LENGTH));
}

/** Public keys go in as JWK (RFC 8037), a raw import without the DER decoder. */
export function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** The raw 32-byte public key of a private key object. */
export function rawPublicKey(privateKey: KeyObject): Buffer {
  const x = privateKey.export({ format: 'jwk' }).x!;
  return Buffer.from(x, 'base64url');
}

/**
 * DH(private, public). Undefined when the result is all zeros (a low-order public key); OpenSSL
 * refuses those itself, and WireGuard must too (whitepaper §5.4.5 via Curve25519 "contributory" check).
 */
export function dh(privateKey: KeyObject, publicKey: KeyObject): Buffer | undefined {
  try {
    const shared = diffieHellman({ privateKey, publicKey });
    return shared.every((b) => b === 0) ? undefined : shared;
  } catch {
    return undefined;
  }
}

/** HASH(input): BLAKE2s-256. */
export function hash(...parts: Uint8Array[]): Buffer {
  const h = createHash('blake2s256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC(key, input) with BLAKE2s-256, the HKDF building block (whitepaper §5.4). */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const ONE = Uint8Array.of(1);

/** KDF_n(key, input): HKDF with HMAC-BLAKE2s, n = 1..3 outputs of 32 bytes. */
export function kdf(key: Uint8Array, input: Uint8Array, n: 1 | 2 | 3): Buffer[] {
  const t0 = hmac(key, input);
  const out = [hmac(t0, ONE)];
  for (let i = 2; i <= n; i++) out.push(hmac(t0, out[i - 2]!, Uint8Array.of(i)));
  return out;
}

/** MAC(key, input): keyed BLAKE2s with a 16-byte output (mac1, mac2, cookie). */
export function mac(key: Uint8Array, input: Uint8Array): Buffer {
  const out = blake2s(input, { key, dkLen: MAC_LENGTH });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** The 96-bit AEAD nonce: 32 zero bits then the 64-bit little-endian counter (whitepaper §5.4). */
function nonce(counter: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32LE(counter >>> 0, 4);
  n.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), 8);
  return n;
}

/** AEAD(key, counter, plaintext, ad): ChaCha20-Poly1305 (RFC 8439); ciphertext || 16-byte tag. */
export function aeadSeal(key: Uint8Array, counter: number, plaintext: Uint8Array, ad: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce(counter), { authTagLength: TAG_LENGTH });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  return Buffer.concat([body, c.getAuthTag()]);
}

/** Undefined when the tag does not verify (or the input is shorter than a tag). */
export function aeadOpen(key: Uint8Array, counter: number, sealed: Uint8Array, ad: Uint8Array): Buffer | undefined {
  if (sealed.length < TAG_LENGTH) return undefined;
  const cut = sealed.length - TAG_LENGTH;
  const d = createDecipheriv('chacha20-poly1305', key, nonce(counter), { authTagLength: TAG_LENGTH });
  d.setAuthTag(sealed.subarray(cut));
  d.setAAD(ad, { plaintextLength: cut });
  const body = d.update(sealed.subarray(0, cut));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return body;
}

/** XAEAD(key, nonce24, plaintext, ad): XChaCha20-Poly1305, used only for cookie replies (§5.4.7). */
export function xaeadSeal(key: Uint8Array, nonce24: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Buffer {
  return Buffer.from(xchacha20poly1305(key, nonce24, ad).encrypt(plaintext));
}

export function xaeadOpen(key: Uint8Array, nonce24: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Buffer | undefined {
  try {
    return Buffer.from(xchacha20poly1305(key, nonce24, ad).decrypt(sealed));
  } catch {
    return undefined;
  }
}
