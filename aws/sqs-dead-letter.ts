/**
 * Dead-letter writer for destinations configured with `deadLetter: { sqsQueueUrl }`: packets that
 * finally failed go to an SQS queue, one message per packet, body = the single-message event JSON
 * plus "Reason". Used by the core (gateway/fanout) after the last retry.
 */
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { Packet } from '../gateway/packet.js';
import { toEventMessage } from '../gateway/wire/event.js';
import { awsClientConfig } from './client-config.js';

// SQS SendMessageBatch: 10 entries, 256 KiB (262,144 bytes) per message and per call (see sqs/).
const MAX_ENTRIES = 10;
const MAX_BYTES = 262_144;

export interface SqsDeadLetterOptions { readonly sqsQueueUrl: string; readonly region?: string; readonly endpoint?: string }

export interface SqsDeadLetter {
  /** Write the packets with the reason; rejects if any could not be written (the caller counts it). */
  write(packets: readonly Packet[], reason: string): Promise<void>;
  close(): Promise<void>;
}

/** The dead-letter body; a payload too large for one message is left out (DataOmitted: true). */
export function deadLetterBody(p: Packet, reason: string): string {
  const body = JSON.stringify({ ...toEventMessage(p), Reason: reason });
  if (Buffer.byteLength(body) <= MAX_BYTES) return body;
  return JSON.stringify({ ...toEventMessage({ ...p, tag: p.tag, data: Buffer.alloc(0) }), DataOmitted: true, DataBytes: p.data.length, Reason: reason.slice(0, 1_000) });
}

export function createSqsDeadLetter(o: SqsDeadLetterOptions): SqsDeadLetter {
  const client = new SQSClient(awsClientConfig(o));
  const fifo = o.sqsQueueUrl.endsWith('.fifo');
  const entry = (p: Packet, reason: string, i: number): SendMessageBatchRequestEntry => ({
    Id: String(i),
    MessageBody: deadLetterBody(p, reason),
    ...(fifo ? { MessageGroupId: p.listener, MessageDeduplicationId: p.tag.slice(0, 128) } : {}),
  });
  let closed = false;
  return {
    async write(packets, reason) {
      const failures: string[] = [];
      for (const chunk of chunks(packets.map((p, i) => entry(p, reason, i)))) {
        const res = await client.send(new SendMessageBatchCommand({ QueueUrl: o.sqsQueueUrl, Entries: chunk }));
        for (const f of res.Failed ?? []) failures.push(`${f.Code}: ${f.Message ?? ''}`);
      }
      if (failures.length) throw new Error(`SQS dead-letter: ${failures.length} of ${packets.length} not written (${failures[0]})`);
    },
    async close() { if (!closed) { closed = true; client.destroy(); } },
  };
}

function chunks(entries: SendMessageBatchRequestEntry[]): SendMessageBatchRequestEntry[][] {
  const out: SendMessageBatchRequestEntry[][] = [];
  let cur: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(e.MessageBody!);
    if (cur.length && (cur.length >= MAX_ENTRIES || bytes + size > MAX_BYTES)) { out.push(cur); cur = []; bytes = 0; }
    cur.push(e);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}
