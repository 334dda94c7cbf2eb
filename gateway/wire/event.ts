/**
 * The event contract of the reference service (Proxylity UDP Gateway), so handlers port unchanged:
 *   {"Messages":[{"Tag","Remote":{"IpAddress","Port"},"Local":{"Domain","IpAddress","Port","Protocol"},
 *                 "ReceivedAt","Formatter","Data"}]}
 *   reply: {"Replies":[{"Tag","Data"}]}
 * Pure functions: values in, values out.
 */
import type { Formatter, Packet, Reply } from '../packet.js';
import { decodeAnyData, encodeData, isFormatter, isMessageFormatter } from './formatter.js';

export interface EventMessage {
  Tag: string;
  /** The client: its address and port as the listener saw them (for a tunnel, the outer endpoint),
   *  and PeerKey when a listener protocol authenticated it (WireGuard). */
  Remote: { IpAddress: string; Port: number; PeerKey?: string };
  /** For a datagram that arrived inside a tunnel: its inner addresses. */
  Inner?: { SourceAddress: string; SourcePort: number; DestinationAddress: string; DestinationPort: number };
  Local: { Domain: string; IpAddress: string; Port: number; Protocol: 'udp' };
  ReceivedAt: string;
  Formatter: Formatter;
  Data: string;
}

export interface GatewayEvent { Messages: EventMessage[] }

export interface ReplyMessage { Tag: string; Data: string; Formatter?: Formatter }
export interface ReplyBody { Replies: ReplyMessage[] }

/** The packets of a receive batch share their receive time: its ISO string (V8 formats it through
 *  snprintf, ~7,500 instructions) is made once, not once a message. */
let lastMs = Number.NaN, lastIso = '';
function isoTime(ms: number): string {
  if (ms !== lastMs) { lastIso = new Date(ms).toISOString(); lastMs = ms; }
  return lastIso;
}

export function toEventMessage(p: Packet): EventMessage {
  const m: EventMessage = {
    Tag: p.tag,
    Remote: { IpAddress: p.remote.address, Port: p.remote.port },
    Local: { Domain: p.listener, IpAddress: p.local.address, Port: p.local.port, Protocol: 'udp' },
    ReceivedAt: isoTime(p.receivedAt),
    Formatter: p.formatter,
    Data: encodeData(p.data, p.formatter),
  };
  if (p.peerKey !== undefined) tunnelled(m, p);
  return p.annotations ? Object.assign(m, p.annotations) : m;
}

/** Remote is the outer endpoint with the peer's key; Inner the tunnel's addresses. */
function tunnelled(m: EventMessage, p: Packet): void {
  const outer = p.outer ?? p.remote;
  m.Remote = { IpAddress: outer.address, Port: outer.port, PeerKey: p.peerKey! };
  if (p.inner) {
    m.Inner = { SourceAddress: p.inner.sourceAddress, SourcePort: p.inner.sourcePort, DestinationAddress: p.inner.destinationAddress, DestinationPort: p.inner.destinationPort };
  }
}

export function toEvent(batch: readonly Packet[]): GatewayEvent {
  return { Messages: batch.map(toEventMessage) };
}

export interface ParsedReplies {
  readonly replies: Reply[];
  /** One entry per reply that was ignored, with why (counted as drops by the caller). */
  readonly rejected: { index: number; reason: string }[];
}

/**
 * Parse a handler's answer. `null`/`undefined`/an object without Replies/`Replies: null`/an empty
 * list send nothing, and so does a `null` or missing entry inside the list (the reference service's
 * own examples answer `null` for a message that gets no reply): silently, not a rejection.
 * A reply without a Tag, or with Data that does not decode, is rejected with a reason.
 * `formatterOf` gives the formatter of the packet the tag belongs to (default base64).
 */
export function parseReplies(body: unknown, formatterOf: (tag: string) => Formatter | undefined = () => undefined): ParsedReplies {
  const replies: Reply[] = [];
  const rejected: { index: number; reason: string }[] = [];
  if (body === null || body === undefined || typeof body !== 'object') return { replies, rejected };
  const list = (body as { Replies?: unknown }).Replies;
  if (list === undefined || list === null) return { replies, rejected };
  if (!Array.isArray(list)) return { replies, rejected: [{ index: -1, reason: 'Replies is not an array' }] };
  list.forEach((item: unknown, index) => {
    if (item === null || item === undefined) return; // no reply for this message
    const r = parseOne(item, formatterOf);
    if (r instanceof Error) rejected.push({ index, reason: r.message });
    else replies.push(r);
  });
  return { replies, rejected };
}

function parseOne(item: unknown, formatterOf: (tag: string) => Formatter | undefined): Reply | Error {
  if (typeof item !== 'object' || Array.isArray(item)) return new Error('reply is not an object');
  const { Tag, Data, Formatter: f } = item as Record<string, unknown>;
  if (typeof Tag !== 'string' || Tag.length === 0) return new Error('reply has no Tag');
  if (f !== undefined && !isFormatter(f)) return new Error(`reply Formatter must be one of base64, hex, utf8, ascii, coap`);
  const formatter = (f as Formatter | undefined) ?? formatterOf(Tag) ?? 'base64';
  if (typeof Data !== 'string' && !isMessageFormatter(formatter)) return new Error('reply Data is not a string');
  const data = decodeAnyData(Data, formatter);
  return data instanceof Error ? data : { tag: Tag, data };
}
