/**
 * Typed helpers for handler authors (import from 'udp-gateway/handler'). The shapes are those of
 * the hosted reference service, so a handler written for it runs unchanged.
 */
import type { EventMessage, GatewayEvent, ReplyBody, ReplyMessage } from './event.js';
import type { Formatter } from '../packet.js';
import { decodeData as decode, encodeData } from './formatter.js';

export type { EventMessage as UdpGatewayMessage, GatewayEvent as UdpGatewayEvent, ReplyBody as UdpGatewayResponse, ReplyMessage as UdpGatewayReply, Formatter };

/** The bytes of a message's Data, decoded with its Formatter. Throws on Data that does not decode. */
export function messageData(m: Pick<EventMessage, 'Data' | 'Formatter'>): Buffer {
  const r = decode(m.Data, m.Formatter ?? 'base64');
  if (r instanceof Error) throw r;
  return r;
}

/** A reply to `m` carrying `data`, encoded with the message's own Formatter. */
export function replyTo(m: Pick<EventMessage, 'Tag' | 'Formatter'>, data: Buffer | string): ReplyMessage {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return { Tag: m.Tag, Data: encodeData(bytes, m.Formatter ?? 'base64') };
}

/** Build the handler's answer from a list of replies (undefined entries are skipped). */
export function replies(list: readonly (ReplyMessage | undefined)[]): ReplyBody {
  return { Replies: list.filter((r): r is ReplyMessage => r !== undefined) };
}

export type UdpGatewayHandler = (event: GatewayEvent, context: { functionName: string; awsRequestId: string; getRemainingTimeInMillis(): number }) =>
  Promise<ReplyBody | void> | ReplyBody | void;
