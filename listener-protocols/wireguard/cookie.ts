/**
 * mac1, mac2 and cookie replies (whitepaper §5.3 "Cookie MACs" and §5.4.4, §5.4.7).
 * mac1 = MAC(HASH(LABEL_MAC1 || receiver's public key), msg up to mac1): proves the sender knows
 * whom it talks to. mac2 = MAC(cookie, msg up to mac2): proves, under load, that the sender can
 * receive at its source address. The cookie is MAC(secret, source IP || port); the secret
 * changes every two minutes; it travels in a cookie reply encrypted with XChaCha20-Poly1305.
 */
import { isIP } from 'node:net';
import { mac, MAC_LENGTH, xaeadOpen, xaeadSeal } from './crypto.js';
import { COOKIE_REPLY, MESSAGE_COOKIE_REPLY } from './constants.js';
import { ipBytes } from './ip-address.js';
import type { Endpoint } from './types.js';

const ZERO_MAC = Buffer.alloc(MAC_LENGTH);
const NONCE_LENGTH = 24;

/** Offsets of mac1 and mac2: the last 32 bytes of an initiation or a response. */
function macOffsets(message: Buffer): { mac1: number; mac2: number } {
  return { mac1: message.length - 2 * MAC_LENGTH, mac2: message.length - MAC_LENGTH };
}

export function validMac1(message: Buffer, mac1Key: Buffer): boolean {
  const { mac1, mac2 } = macOffsets(message);
  return mac(mac1Key, message.subarray(0, mac1)).equals(message.subarray(mac1, mac2));
}

/** Initiator-side memory of the last cookie a peer sent us, and of the last mac1 we sent it. */
export interface CookieJar {
  cookie?: Buffer;
  receivedAt: number;
  lastMac1?: Buffer;
}

export function emptyCookieJar(): CookieJar {
  return { receivedAt: -Infinity };
}

/** Write mac1 (always) and mac2 (when we hold a cookie younger than cookieRefreshTime) into a message we send. */
export function addMacs(message: Buffer, mac1Key: Buffer, jar: CookieJar, now: number, cookieRefreshTime: number): void {
  const { mac1, mac2 } = macOffsets(message);
  const m1 = mac(mac1Key, message.subarray(0, mac1));
  m1.copy(message, mac1);
  jar.lastMac1 = m1;
  const fresh = jar.cookie !== undefined && now - jar.receivedAt < cookieRefreshTime;
  (fresh ? mac(jar.cookie!, message.subarray(0, mac2)) : ZERO_MAC).copy(message, mac2);
}

/** Store the cookie of a cookie reply; false when it does not decrypt (or we sent nothing it could answer). */
export function consumeCookieReply(reply: Buffer, cookieKey: Buffer, jar: CookieJar, now: number): boolean {
  if (!jar.lastMac1) return false;
  const nonce = reply.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.cookie);
  const cookie = xaeadOpen(cookieKey, nonce, reply.subarray(COOKIE_REPLY.cookie), jar.lastMac1);
  if (!cookie) return false;
  jar.cookie = cookie;
  jar.receivedAt = now;
  return true;
}

/** Responder side: the rotating secret, mac2 checks and cookie replies. */
export class CookieChecker {
  private secret: Buffer;
  private secretBornAt = -Infinity;

  constructor(
    private readonly cookieKey: Buffer,
    private readonly random: (n: number) => Buffer,
    private readonly refreshTime: number,
  ) {
    this.secret = random(32);
  }

  private cookieFor(from: Endpoint, now: number): Buffer {
    if (now - this.secretBornAt >= this.refreshTime) {
      this.secret = this.random(32);
      this.secretBornAt = now;
    }
    const port = Buffer.alloc(2);
    port.writeUInt16BE(from.port);
    return mac(this.secret, Buffer.concat([ipBytes(from.address, isIP(from.address) as 4 | 6), port]));
  }

  validMac2(message: Buffer, from: Endpoint, now: number): boolean {
    const { mac2 } = macOffsets(message);
    return mac(this.cookieFor(from, now), message.subarray(0, mac2)).equals(message.subarray(mac2));
  }

  /** A cookie reply to `message` (an initiation or response whose sender index is at offset 4). */
  reply(message: Buffer, from: Endpoint, now: number): Buffer {
    const out = Buffer.alloc(COOKIE_REPLY.size);
    out.writeUInt32LE(MESSAGE_COOKIE_REPLY, 0);
    message.copy(out, COOKIE_REPLY.receiver, 4, 8);
    const nonce = this.random(NONCE_LENGTH);
    nonce.copy(out, COOKIE_REPLY.nonce);
    const { mac1, mac2 } = macOffsets(message);
    xaeadSeal(this.cookieKey, nonce, this.cookieFor(from, now), message.subarray(mac1, mac2)).copy(out, COOKIE_REPLY.cookie);
    return out;
  }
}
