/**
 * How a packet becomes one message or record (DESIGN: "the single-message JSON above, or the raw
 * bytes where the destination is configured raw").
 */
import { Type } from '@sinclair/typebox';
import type { Packet } from '../gateway/plugin-kit.js';
import { toEventMessage } from '../gateway/plugin-kit.js';

export type BodyFormat = 'json' | 'raw';

export const BodySchema = Type.Union([Type.Literal('json'), Type.Literal('raw')], {
  default: 'json',
  description: 'json: the single-message event JSON; raw: the payload bytes (base64 text where the service only carries text)',
});

/** The single-message event JSON of one packet. */
export function eventJson(p: Packet): string {
  return JSON.stringify(toEventMessage(p));
}

/** Text body for text-only services (SQS, SNS, CloudWatch Logs): raw bytes go as base64,
 *  since these bodies must be valid Unicode text and a datagram is arbitrary bytes. */
export function textBody(p: Packet, body: BodyFormat): string {
  return body === 'raw' ? p.data.toString('base64') : eventJson(p);
}

/** Binary body for byte-carrying services (Kinesis): raw is the payload itself. */
export function binaryBody(p: Packet, body: BodyFormat): Buffer {
  return body === 'raw' ? p.data : Buffer.from(eventJson(p), 'utf8');
}
