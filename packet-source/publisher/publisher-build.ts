/**
 * Pure builders for the publisher: out-of-band packets and async replies → egress documents
 * ({"Messages":[…]} / {"Replies":[…]}), split so each serialized document fits a byte limit.
 */
import { isIP } from 'node:net';
import type { Formatter } from '../../gateway/packet.js';
import { encodeData } from '../../gateway/wire/formatter.js';

/** SNS Publish and SQS SendMessage: a message is at most 256 KiB (262,144 bytes) of UTF-8. */
export const MAX_MESSAGE_BYTES = 262_144;

export interface PacketInput {
  /** Client IP address (IPv4 or IPv6). */
  readonly address: string;
  readonly port: number;
  /** Bytes to send; a string is sent as its UTF-8 bytes. */
  readonly data: Buffer | Uint8Array | string;
  /** How Data is written in the document (base64 default). The bytes sent are the same whatever it is. */
  readonly formatter?: Formatter;
  /** Listener to send from; default: the packet source's own. */
  readonly listener?: string;
  /** Drop instead of sending when older than this (counted from publication). */
  readonly ttlSeconds?: number;
  /** Drop instead of sending after this time. */
  readonly expiresAt?: Date | string | number;
  readonly peerKey?: string;
}

export interface ReplyInput {
  readonly tag: string;
  readonly data: Buffer | Uint8Array | string;
  readonly formatter?: Formatter;
}

export interface BuildOptions {
  /** Most bytes per document (default 256 KiB). */
  readonly maxBytes?: number;
  /** Most entries per document (default: as many as fit). */
  readonly batchSize?: number;
}

const bytesOf = (d: Buffer | Uint8Array | string): Buffer => (typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d));

export function encodePacket(p: PacketInput, index = 0): Record<string, unknown> {
  if (isIP(p.address) === 0) throw new TypeError(`packets[${index}].address is not an IP address: ${p.address}`);
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new TypeError(`packets[${index}].port is not 1-65535: ${p.port}`);
  if (p.ttlSeconds !== undefined && !(p.ttlSeconds >= 0)) throw new TypeError(`packets[${index}].ttlSeconds is not a non-negative number`);
  const formatter = p.formatter ?? 'base64';
  const msg: Record<string, unknown> = {
    Remote: { Address: p.address, Port: p.port, ...(p.peerKey !== undefined ? { PeerKey: p.peerKey } : {}) },
    Data: encodeData(bytesOf(p.data), formatter),
    Formatter: formatter,
  };
  if (p.listener !== undefined) msg.Listener = p.listener;
  if (p.ttlSeconds !== undefined) msg.TtlSeconds = p.ttlSeconds;
  if (p.expiresAt !== undefined) msg.ExpiresAt = isoTime(p.expiresAt, index);
  return msg;
}

export function encodeReply(r: ReplyInput, index = 0): Record<string, unknown> {
  if (typeof r.tag !== 'string' || r.tag.length === 0) throw new TypeError(`replies[${index}].tag is empty`);
  const formatter = r.formatter ?? 'base64';
  return { Tag: r.tag, Data: encodeData(bytesOf(r.data), formatter), Formatter: formatter };
}

/** {"Messages":[…]} documents, each at most maxBytes. Throws RangeError if one packet alone does not fit. */
export function buildEgressDocuments(packets: readonly PacketInput[], maxBytes: number = MAX_MESSAGE_BYTES, batchSize?: number): string[] {
  return split('Messages', packets.map((p, i) => JSON.stringify(encodePacket(p, i))), { maxBytes, ...(batchSize ? { batchSize } : {}) });
}

/** {"Replies":[…]} documents, each at most maxBytes. */
export function buildReplyDocuments(replies: readonly ReplyInput[], maxBytes: number = MAX_MESSAGE_BYTES, batchSize?: number): string[] {
  return split('Replies', replies.map((r, i) => JSON.stringify(encodeReply(r, i))), { maxBytes, ...(batchSize ? { batchSize } : {}) });
}

function split(key: 'Messages' | 'Replies', entries: string[], o: BuildOptions): string[] {
  const maxBytes = o.maxBytes ?? MAX_MESSAGE_BYTES;
  const maxEntries = o.batchSize ?? Infinity;
  const head = `{"${key}":[`;
  const overhead = Buffer.byteLength(head) + 2; // "]}"
  const docs: string[] = [];
  let current: string[] = [];
  let size = overhead;
  const flush = () => { if (current.length) docs.push(`${head}${current.join(',')}]}`); current = []; size = overhead; };
  entries.forEach((e, i) => {
    const bytes = Buffer.byteLength(e);
    if (overhead + bytes > maxBytes) throw new RangeError(`${key.toLowerCase()}[${i}] is ${overhead + bytes} bytes as a document, over the ${maxBytes}-byte message limit`);
    const extra = current.length ? bytes + 1 : bytes; // a comma between entries
    if (current.length >= maxEntries || size + extra > maxBytes) flush();
    size += current.length ? bytes + 1 : bytes;
    current.push(e);
  });
  flush();
  return docs;
}

function isoTime(t: Date | string | number, index: number): string {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new TypeError(`packets[${index}].expiresAt is not a time`);
  return new Date(ms).toISOString();
}

/** Group documents into batches of at most maxEntries and maxBytes in total (SQS SendMessageBatch). */
export function groupBatches(docs: readonly string[], maxEntries: number, maxBytes: number): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const d of docs) {
    const bytes = Buffer.byteLength(d);
    if (current.length && (current.length >= maxEntries || size + bytes > maxBytes)) { batches.push(current); current = []; size = 0; }
    current.push(d);
    size += bytes;
  }
  if (current.length) batches.push(current);
  return batches;
}
