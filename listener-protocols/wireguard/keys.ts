/** WireGuard keys as `wg genkey` / `wg pubkey` / `wg genpsk` write them: base64 of 32 bytes. */
import { randomBytes } from 'node:crypto';
import { KEY_LENGTH, rawPublicKey, x25519PrivateKey } from './crypto.js';

const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/; // 32 bytes: 43 chars + one '='

/** Decode a base64 key; throws a clear error naming `what` when it is not 32 bytes of base64. */
export function decodeKey(text: string, what: string): Buffer {
  if (typeof text !== 'string' || !BASE64_KEY.test(text.trim())) {
    throw new Error(`${what} is not a WireGuard key: expected 44 characters of base64 (32 bytes), as \`wg genkey\` writes`);
  }
  return Buffer.from(text.trim(), 'base64');
}

export function isKey(text: unknown): text is string {
  return typeof text === 'string' && BASE64_KEY.test(text.trim());
}

export function encodeKey(raw: Uint8Array): string {
  return Buffer.from(raw).toString('base64');
}

/** Like `wg genkey`: 32 random bytes, clamped as Curve25519 expects (RFC 7748 §5). */
export function generatePrivateKey(): string {
  const k = randomBytes(KEY_LENGTH);
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return encodeKey(k);
}

/** Like `wg pubkey`: the X25519 public key of a base64 private key. */
export function publicKeyOf(privateKey: string): string {
  return encodeKey(rawPublicKey(x25519PrivateKey(decodeKey(privateKey, 'private key'))));
}

/** Like `wg genpsk`: 32 random bytes. */
export function generatePresharedKey(): string {
  return encodeKey(randomBytes(KEY_LENGTH));
}
