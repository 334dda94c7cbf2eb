/**
 * Protocol constants: whitepaper §6.1 "Protocol & Cryptography Constants" (the same values as
 * wireguard-go's device/constants.go), and the message layouts of §5.4.2–§5.4.6.
 */

/** Times in milliseconds, message counts as numbers. */
export interface WireGuardLimits {
  rekeyAfterMessages: number;
  rejectAfterMessages: number;
  rekeyAfterTime: number;
  rejectAfterTime: number;
  rekeyAttemptTime: number;
  rekeyTimeout: number;
  keepaliveTimeout: number;
  cookieRefreshTime: number;
  /** At most one initiation consumed per peer in this time (wireguard-go HandshakeInitationRate). */
  handshakeInitiationRate: number;
}

/**
 * REKEY_AFTER_MESSAGES is 2^60 and REJECT_AFTER_MESSAGES 2^64 − 2^13 − 1; counters here are JS
 * numbers, exact to 2^53, so both are capped at 2^53 − 1: at 10 million packets a second that is
 * 28 years, and REJECT_AFTER_TIME ends every session after 180 s anyway.
 */
const MAX_EXACT_COUNTER = Number.MAX_SAFE_INTEGER;

export const DEFAULT_LIMITS: Readonly<WireGuardLimits> = Object.freeze({
  rekeyAfterMessages: MAX_EXACT_COUNTER,
  rejectAfterMessages: MAX_EXACT_COUNTER,
  rekeyAfterTime: 120_000,
  rejectAfterTime: 180_000,
  rekeyAttemptTime: 90_000,
  rekeyTimeout: 5_000,
  keepaliveTimeout: 10_000,
  cookieRefreshTime: 120_000,
  handshakeInitiationRate: 20, // 1 s / 50
});

/** Added to each handshake retransmission (wireguard-go RekeyTimeoutJitterMaxMs). */
export const REKEY_TIMEOUT_JITTER_MAX = 334;

export const CONSTRUCTION = Buffer.from('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
export const IDENTIFIER = Buffer.from('WireGuard v1 zx2c4 Jason@zx2c4.com');
export const LABEL_MAC1 = Buffer.from('mac1----');
export const LABEL_COOKIE = Buffer.from('cookie--');

export const MESSAGE_INITIATION = 1;
export const MESSAGE_RESPONSE = 2;
export const MESSAGE_COOKIE_REPLY = 3;
export const MESSAGE_TRANSPORT = 4;

/** Handshake initiation (148 bytes): type(4) sender(4) ephemeral(32) static(32+16) timestamp(12+16) mac1(16) mac2(16). */
export const INITIATION = { size: 148, sender: 4, ephemeral: 8, static: 40, timestamp: 88, mac1: 116, mac2: 132 } as const;
/** Handshake response (92 bytes): type(4) sender(4) receiver(4) ephemeral(32) empty(0+16) mac1(16) mac2(16). */
export const RESPONSE = { size: 92, sender: 4, receiver: 8, ephemeral: 12, empty: 44, mac1: 60, mac2: 76 } as const;
/** Cookie reply (64 bytes): type(4) receiver(4) nonce(24) cookie(16+16). */
export const COOKIE_REPLY = { size: 64, receiver: 4, nonce: 8, cookie: 32 } as const;
/** Transport data: type(4) receiver(4) counter(8) packet(n+16); a keepalive has n = 0. */
export const TRANSPORT = { header: 16, receiver: 4, counter: 8, minSize: 32 } as const;

/** Plaintext of transport messages is zero-padded to a multiple of 16 (whitepaper §5.4.6). */
export const PADDING_MULTIPLE = 16;
/** Largest inner packet we encrypt: an IPv4/IPv6 packet is at most 65535 bytes (RFC 791, RFC 8200 without jumbograms). */
export const MAX_INNER_PACKET = 65_535;
