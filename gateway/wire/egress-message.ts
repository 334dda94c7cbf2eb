/**
 * Out-of-band egress documents (SNS, SQS, admin HTTP), pure parsing:
 *   {"Messages":[{"Data","Remote":{"Address"|"IP"|"IpAddress","Port","PeerKey"?},"Formatter"?,
 *                 "Listener"?,"ExpiresAt"?|"TtlSeconds"?}]}
 *   the single form {"Data","Remote":{"IP","Port"}}, and async replies {"Replies":[{"Tag","Data"}]}.
 */
import { isIP } from 'node:net';
import type { Endpoint, Formatter, Reply } from '../packet.js';
import { decodeAnyData, isFormatter, isMessageFormatter } from './formatter.js';
import { parseReplies } from './event.js';

export interface OutOfBandPacket {
  readonly remote: Endpoint;
  readonly data: Buffer;
  /** Listener to send from; absent: the source's own. */
  readonly listener?: string;
  readonly peerKey?: string;
  /** Drop instead of sending after this time (ms since epoch). */
  readonly expiresAt?: number;
}

export interface EgressDocument {
  readonly packets: OutOfBandPacket[];
  readonly replies: Reply[];
  readonly rejected: { index: number; reason: string }[];
}

export interface ParseEgressOptions {
  readonly defaultFormatter?: Formatter;
  readonly now?: number;
  /** Formatter of the packet a reply tag belongs to. */
  readonly formatterOf?: (tag: string) => Formatter | undefined;
}

export function parseEgressDocument(body: unknown, opts: ParseEgressOptions = {}): EgressDocument | Error {
  if (typeof body === 'string') {
    try { body = JSON.parse(body); } catch { return new Error('body is not JSON'); }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return new Error('body is not a JSON object');
  const doc = body as Record<string, unknown>;
  const packets: OutOfBandPacket[] = [];
  const rejected: { index: number; reason: string }[] = [];
  let replies: Reply[] = [];
  if ('Replies' in doc) {
    const r = parseReplies(doc, opts.formatterOf);
    replies = r.replies;
    rejected.push(...r.rejected);
  }
  const list = 'Messages' in doc ? doc.Messages : 'Data' in doc ? [doc] : undefined;
  if (list === undefined && !('Replies' in doc)) return new Error('body has neither Messages, Data nor Replies');
  if (list !== undefined) {
    if (!Array.isArray(list)) return new Error('Messages is not an array');
    list.forEach((m: unknown, index) => {
      const p = parseMessage(m, opts);
      if (p instanceof Error) rejected.push({ index, reason: p.message });
      else packets.push(p);
    });
  }
  return { packets, replies, rejected };
}

function parseMessage(m: unknown, opts: ParseEgressOptions): OutOfBandPacket | Error {
  if (m === null || typeof m !== 'object') return new Error('message is not an object');
  const msg = m as Record<string, unknown>;
  const remote = msg.Remote as Record<string, unknown> | undefined;
  if (!remote || typeof remote !== 'object') return new Error('message has no Remote');
  const address = remote.Address ?? remote.IP ?? remote.IpAddress;
  if (typeof address !== 'string' || isIP(address) === 0) return new Error('Remote.Address is not an IP address');
  const port = remote.Port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return new Error('Remote.Port is not a port number (1-65535)');
  const f = msg.Formatter ?? opts.defaultFormatter ?? 'base64';
  if (!isFormatter(f)) return new Error('Formatter must be one of base64, hex, utf8, ascii, coap');
  if (typeof msg.Data !== 'string' && !isMessageFormatter(f)) return new Error('Data is not a string');
  const data = decodeAnyData(msg.Data, f);
  if (data instanceof Error) return data;
  const expiresAt = expiry(msg, opts.now ?? Date.now());
  if (expiresAt instanceof Error) return expiresAt;
  if (msg.Listener !== undefined && typeof msg.Listener !== 'string') return new Error('Listener is not a string');
  if (remote.PeerKey !== undefined && typeof remote.PeerKey !== 'string') return new Error('Remote.PeerKey is not a string');
  return {
    remote: { address, port }, data,
    ...(msg.Listener !== undefined ? { listener: msg.Listener as string } : {}),
    ...(remote.PeerKey !== undefined ? { peerKey: remote.PeerKey as string } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

function expiry(msg: Record<string, unknown>, now: number): number | undefined | Error {
  if (msg.ExpiresAt !== undefined) {
    const t = typeof msg.ExpiresAt === 'string' ? Date.parse(msg.ExpiresAt) : NaN;
    return Number.isNaN(t) ? new Error('ExpiresAt is not an ISO 8601 time') : t;
  }
  if (msg.TtlSeconds !== undefined) {
    const s = msg.TtlSeconds;
    return typeof s === 'number' && s >= 0 ? now + s * 1000 : new Error('TtlSeconds is not a non-negative number');
  }
  return undefined;
}
