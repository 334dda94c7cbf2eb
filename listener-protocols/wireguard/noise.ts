/**
 * The Noise_IKpsk2 handshake as WireGuard uses it (whitepaper §5.4.2 first message, §5.4.3
 * second message, §5.4.5 transport keys). Pure functions over keys and bytes: the engine owns
 * state, indices, time and I/O. Message MACs are added by ./cookie.ts.
 */
import type { KeyObject } from 'node:crypto';
import { aeadOpen, aeadSeal, dh, hash, kdf, rawPublicKey, x25519PrivateKey, x25519PublicKey } from './crypto.js';
import { CONSTRUCTION, IDENTIFIER, INITIATION, LABEL_COOKIE, LABEL_MAC1, MESSAGE_INITIATION, MESSAGE_RESPONSE, RESPONSE } from './constants.js';

const INITIAL_CHAIN_KEY = hash(CONSTRUCTION);
const INITIAL_HASH = hash(INITIAL_CHAIN_KEY, IDENTIFIER);
const EMPTY = Buffer.alloc(0);

/** This side's static key and what is derived from it once. */
export interface LocalIdentity {
  privateKey: KeyObject;
  publicKey: Buffer;
  /** HASH(LABEL_MAC1 || our public key): checks mac1 of messages sent to us. */
  mac1Key: Buffer;
  /** HASH(LABEL_COOKIE || our public key): encrypts the cookie replies we send. */
  cookieKey: Buffer;
  /** HASH(H0 || our public key): the responder's starting hash. */
  responderHash: Buffer;
}

/** A configured peer's static key, preshared key, and what is derived from them once. */
export interface PeerIdentity {
  publicKey: Buffer;
  publicKeyObject: KeyObject;
  /** DH(our private, their public), precomputed. */
  staticStatic: Buffer;
  presharedKey: Buffer;
  /** HASH(LABEL_MAC1 || their public key): mac1 of messages we send them. */
  mac1Key: Buffer;
  /** HASH(LABEL_COOKIE || their public key): decrypts cookie replies they send us. */
  cookieKey: Buffer;
  /** HASH(H0 || their public key): the initiator's starting hash. */
  initiatorHash: Buffer;
}

/** Chaining key and hash in flight between the two handshake messages. */
export interface HandshakeSecrets {
  chainKey: Buffer;
  hash: Buffer;
  ephemeral?: KeyObject;
  remoteEphemeral?: Buffer;
}

export type HandshakeFailure = 'handshake-bad-ephemeral' | 'handshake-decrypt' | 'unknown-peer';

export function createLocalIdentity(privateKeyRaw: Buffer): LocalIdentity {
  const privateKey = x25519PrivateKey(privateKeyRaw);
  const publicKey = rawPublicKey(privateKey);
  return {
    privateKey, publicKey,
    mac1Key: hash(LABEL_MAC1, publicKey),
    cookieKey: hash(LABEL_COOKIE, publicKey),
    responderHash: hash(INITIAL_HASH, publicKey),
  };
}

/** Throws when the peer's key is unusable (a low-order point gives an all-zero DH). */
export function createPeerIdentity(local: LocalIdentity, publicKey: Buffer, presharedKey?: Buffer): PeerIdentity {
  const publicKeyObject = x25519PublicKey(publicKey);
  const staticStatic = dh(local.privateKey, publicKeyObject);
  if (!staticStatic) throw new Error('peer public key is a low-order point (DH gives zero)');
  return {
    publicKey, publicKeyObject, staticStatic,
    presharedKey: presharedKey ?? Buffer.alloc(32),
    mac1Key: hash(LABEL_MAC1, publicKey),
    cookieKey: hash(LABEL_COOKIE, publicKey),
    initiatorHash: hash(INITIAL_HASH, publicKey),
  };
}

function mixKey(chainKey: Buffer, input: Buffer): Buffer {
  return kdf(chainKey, input, 1)[0]!;
}

/** First message, initiator side. mac1/mac2 are left zero. */
export function createInitiation(
  local: LocalIdentity, peer: PeerIdentity, senderIndex: number, ephemeral: KeyObject, timestamp: Buffer,
): { message: Buffer; secrets: HandshakeSecrets } {
  const message = Buffer.alloc(INITIATION.size);
  message.writeUInt32LE(MESSAGE_INITIATION, 0);
  message.writeUInt32LE(senderIndex, INITIATION.sender);
  const ephemeralPublic = rawPublicKey(ephemeral);
  ephemeralPublic.copy(message, INITIATION.ephemeral);
  let chainKey = mixKey(INITIAL_CHAIN_KEY, ephemeralPublic);
  let h = hash(peer.initiatorHash, ephemeralPublic);
  let key: Buffer;
  [chainKey, key] = kdf(chainKey, dh(ephemeral, peer.publicKeyObject)!, 2) as [Buffer, Buffer];
  const sealedStatic = aeadSeal(key, 0, local.publicKey, h);
  sealedStatic.copy(message, INITIATION.static);
  h = hash(h, sealedStatic);
  [chainKey, key] = kdf(chainKey, peer.staticStatic, 2) as [Buffer, Buffer];
  const sealedTimestamp = aeadSeal(key, 0, timestamp, h);
  sealedTimestamp.copy(message, INITIATION.timestamp);
  h = hash(h, sealedTimestamp);
  return { message, secrets: { chainKey, hash: h, ephemeral } };
}

export type ConsumedInitiation =
  | { ok: true; peer: PeerIdentity; timestamp: Buffer; senderIndex: number; secrets: HandshakeSecrets }
  | { ok: false; reason: HandshakeFailure };

/** First message, responder side: decrypt the initiator's static key, find the peer, decrypt the timestamp. */
export function consumeInitiation(
  local: LocalIdentity, message: Buffer, lookup: (publicKey: Buffer) => PeerIdentity | undefined,
): ConsumedInitiation {
  const remoteEphemeral = Buffer.from(message.subarray(INITIATION.ephemeral, INITIATION.static));
  let chainKey = mixKey(INITIAL_CHAIN_KEY, remoteEphemeral);
  let h = hash(local.responderHash, remoteEphemeral);
  const es = dh(local.privateKey, x25519PublicKey(remoteEphemeral));
  if (!es) return { ok: false, reason: 'handshake-bad-ephemeral' };
  let key: Buffer;
  [chainKey, key] = kdf(chainKey, es, 2) as [Buffer, Buffer];
  const sealedStatic = message.subarray(INITIATION.static, INITIATION.timestamp);
  const remoteStatic = aeadOpen(key, 0, sealedStatic, h);
  if (!remoteStatic) return { ok: false, reason: 'handshake-decrypt' };
  h = hash(h, sealedStatic);
  const peer = lookup(remoteStatic);
  if (!peer) return { ok: false, reason: 'unknown-peer' };
  [chainKey, key] = kdf(chainKey, peer.staticStatic, 2) as [Buffer, Buffer];
  const sealedTimestamp = message.subarray(INITIATION.timestamp, INITIATION.mac1);
  const timestamp = aeadOpen(key, 0, sealedTimestamp, h);
  if (!timestamp) return { ok: false, reason: 'handshake-decrypt' };
  h = hash(h, sealedTimestamp);
  const senderIndex = message.readUInt32LE(INITIATION.sender);
  return { ok: true, peer, timestamp, senderIndex, secrets: { chainKey, hash: h, remoteEphemeral } };
}

/** Second message, responder side. Returns the final chaining key for transport keys; undefined on a bad ephemeral. */
export function createResponse(
  peer: PeerIdentity, secrets: HandshakeSecrets, senderIndex: number, receiverIndex: number, ephemeral: KeyObject,
): { message: Buffer; chainKey: Buffer } | undefined {
  const message = Buffer.alloc(RESPONSE.size);
  message.writeUInt32LE(MESSAGE_RESPONSE, 0);
  message.writeUInt32LE(senderIndex, RESPONSE.sender);
  message.writeUInt32LE(receiverIndex, RESPONSE.receiver);
  const ephemeralPublic = rawPublicKey(ephemeral);
  ephemeralPublic.copy(message, RESPONSE.ephemeral);
  let chainKey = mixKey(secrets.chainKey, ephemeralPublic);
  let h = hash(secrets.hash, ephemeralPublic);
  const ee = dh(ephemeral, x25519PublicKey(secrets.remoteEphemeral!));
  const se = dh(ephemeral, peer.publicKeyObject);
  if (!ee || !se) return undefined;
  chainKey = mixKey(mixKey(chainKey, ee), se);
  const [c, t, key] = kdf(chainKey, peer.presharedKey, 3) as [Buffer, Buffer, Buffer];
  h = hash(h, t);
  const sealedEmpty = aeadSeal(key, 0, EMPTY, h);
  sealedEmpty.copy(message, RESPONSE.empty);
  return { message, chainKey: c };
}

/** Second message, initiator side. Returns the final chaining key, or why it failed. */
export function consumeResponse(
  local: LocalIdentity, peer: PeerIdentity, secrets: HandshakeSecrets, message: Buffer,
): { ok: true; chainKey: Buffer } | { ok: false; reason: HandshakeFailure } {
  const remoteEphemeral = message.subarray(RESPONSE.ephemeral, RESPONSE.empty);
  let chainKey = mixKey(secrets.chainKey, remoteEphemeral);
  let h = hash(secrets.hash, remoteEphemeral);
  const remote = x25519PublicKey(remoteEphemeral);
  const ee = dh(secrets.ephemeral!, remote);
  const se = dh(local.privateKey, remote);
  if (!ee || !se) return { ok: false, reason: 'handshake-bad-ephemeral' };
  chainKey = mixKey(mixKey(chainKey, ee), se);
  const [c, t, key] = kdf(chainKey, peer.presharedKey, 3) as [Buffer, Buffer, Buffer];
  h = hash(h, t);
  if (!aeadOpen(key, 0, message.subarray(RESPONSE.empty, RESPONSE.mac1), h)) return { ok: false, reason: 'handshake-decrypt' };
  return { ok: true, chainKey: c };
}

/** Transport keys (whitepaper §5.4.5): the initiator sends with the first, the responder with the second. */
export function transportKeys(chainKey: Buffer, isInitiator: boolean): { send: Buffer; receive: Buffer } {
  const [first, second] = kdf(chainKey, EMPTY, 2) as [Buffer, Buffer];
  return isInitiator ? { send: first, receive: second } : { send: second, receive: first };
}
