/** The primitives against published vectors and a second implementation (@noble). */
import { describe, expect, it } from 'vitest';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { aeadOpen, aeadSeal, dh, hash, hmac, kdf, mac, x25519PrivateKey, x25519PublicKey, xaeadOpen, xaeadSeal } from '../../../listener-protocols/wireguard/crypto.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('WireGuard primitives', () => {
  it('BLAKE2s-256 of "abc" (RFC 7693 Appendix B)', () => {
    expect(hash(Buffer.from('abc')).toString('hex')).toBe('508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
  });

  it('X25519 (RFC 7748 §6.1): both sides reach the same shared secret', () => {
    const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobPublic = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(dh(x25519PrivateKey(alice), x25519PublicKey(bobPublic))!.toString('hex')).toBe('4a5d9d5b a4ce2de1 728e3bf4 80350f25 e07e21c9 47d19e33 76f09b3c 1e161742'.replace(/ /g, ''));
  });

  it('X25519 refuses a low-order public key (all-zero result)', () => {
    expect(dh(x25519PrivateKey(Buffer.alloc(32, 1)), x25519PublicKey(Buffer.alloc(32)))).toBeUndefined();
  });

  it('ChaCha20-Poly1305 (RFC 8439 §2.8.2) and agreement with @noble/ciphers for a WireGuard nonce', () => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const ad = hex('50515253c0c1c2c3c4c5c6c7');
    const text = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const counter = 0x1234_5678_9a;
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64LE(BigInt(counter), 4);
    const sealed = aeadSeal(key, counter, text, ad);
    expect(sealed.toString('hex')).toBe(Buffer.from(chacha20poly1305(key, nonce, ad).encrypt(text)).toString('hex'));
    expect(aeadOpen(key, counter, sealed, ad)).toEqual(text);
    sealed[3]! ^= 1;
    expect(aeadOpen(key, counter, sealed, ad)).toBeUndefined();
    expect(aeadOpen(key, counter, Buffer.alloc(5), ad)).toBeUndefined();
  });

  it('HMAC-BLAKE2s and HKDF agree with @noble/hashes', () => {
    const key = Buffer.alloc(32, 3);
    const input = Buffer.from('input key material');
    const t0 = Buffer.from(nobleHmac(blake2s, key, input));
    expect(hmac(key, input)).toEqual(t0);
    const t1 = Buffer.from(nobleHmac(blake2s, t0, Uint8Array.of(1)));
    const t2 = Buffer.from(nobleHmac(blake2s, t0, Buffer.concat([t1, Uint8Array.of(2)])));
    const t3 = Buffer.from(nobleHmac(blake2s, t0, Buffer.concat([t2, Uint8Array.of(3)])));
    expect(kdf(key, input, 3)).toEqual([t1, t2, t3]);
  });

  it('keyed BLAKE2s-128 (MAC) differs from the unkeyed hash and depends on the key', () => {
    const m1 = mac(Buffer.alloc(32, 1), Buffer.from('x'));
    expect(m1).toHaveLength(16);
    expect(mac(Buffer.alloc(32, 2), Buffer.from('x'))).not.toEqual(m1);
  });

  it('XChaCha20-Poly1305 round-trips and refuses the wrong associated data', () => {
    const key = Buffer.alloc(32, 5);
    const nonce = Buffer.alloc(24, 6);
    const sealed = xaeadSeal(key, nonce, Buffer.alloc(16, 7), Buffer.from('mac1'));
    expect(sealed).toHaveLength(32);
    expect(xaeadOpen(key, nonce, sealed, Buffer.from('mac1'))).toEqual(Buffer.alloc(16, 7));
    expect(xaeadOpen(key, nonce, sealed, Buffer.from('mac2'))).toBeUndefined();
  });
});
