/** A session's transport keys and counters (whitepaper §5.4.6 "Subsequent Messages: Transport Data Messages"). */
import { aeadOpen, aeadSeal } from './crypto.js';
import { MESSAGE_TRANSPORT, PADDING_MULTIPLE, TRANSPORT } from './constants.js';
import { transportKeys } from './noise.js';
import { ReplayWindow } from './replay-window.js';

export interface Keypair {
  sendKey: Buffer;
  receiveKey: Buffer;
  /** next counter to send */
  sendCounter: number;
  replay: ReplayWindow;
  localIndex: number;
  remoteIndex: number;
  createdAt: number;
  isInitiator: boolean;
}

export function createKeypair(chainKey: Buffer, isInitiator: boolean, localIndex: number, remoteIndex: number, now: number): Keypair {
  const { send, receive } = transportKeys(chainKey, isInitiator);
  return { sendKey: send, receiveKey: receive, sendCounter: 0, replay: new ReplayWindow(), localIndex, remoteIndex, createdAt: now, isInitiator };
}

/** A transport message carrying `plaintext` zero-padded to a multiple of 16; uses and advances the send counter. */
export function sealTransport(kp: Keypair, plaintext: Buffer): Buffer {
  const padded = Buffer.alloc(plaintext.length + ((PADDING_MULTIPLE - (plaintext.length % PADDING_MULTIPLE)) % PADDING_MULTIPLE));
  plaintext.copy(padded);
  const counter = kp.sendCounter++;
  const header = Buffer.alloc(TRANSPORT.header);
  header.writeUInt32LE(MESSAGE_TRANSPORT, 0);
  header.writeUInt32LE(kp.remoteIndex, TRANSPORT.receiver);
  header.writeUInt32LE(counter >>> 0, TRANSPORT.counter);
  header.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), TRANSPORT.counter + 4);
  return Buffer.concat([header, aeadSeal(kp.sendKey, counter, padded, Buffer.alloc(0))]);
}

/** The 64-bit counter of a transport message, or undefined when it is beyond 2^53 (not exact as a JS number). */
export function transportCounter(message: Buffer): number | undefined {
  const high = message.readUInt32LE(TRANSPORT.counter + 4);
  if (high > 0x1f_ffff) return undefined;
  return high * 0x1_0000_0000 + message.readUInt32LE(TRANSPORT.counter);
}

export function openTransport(kp: Keypair, message: Buffer, counter: number): Buffer | undefined {
  return aeadOpen(kp.receiveKey, counter, message.subarray(TRANSPORT.header), Buffer.alloc(0));
}
