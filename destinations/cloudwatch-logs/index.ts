/**
 * cloudwatch-logs: one log event per packet (event JSON, or base64 of the bytes when raw), PutLogEvents.
 * Events are sent in chronological order (the API requires it) and a call spans at most 24 hours;
 * outcomes are mapped back to the batch's own order. Events the service rejects as too old, too
 * new or expired are 'failed' (resending them cannot succeed).
 */
import {
  CloudWatchLogsClient, PutLogEventsCommand, CreateLogStreamCommand, type PutLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { delivered, failed, type BatchResult, type Destination, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { textBody } from '../../aws/body.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { CloudWatchLogsOptions } from './options.js';
export { CloudWatchLogsOptions } from './options.js';

// CloudWatch Logs PutLogEvents: at most 10,000 events and 1,048,576 bytes per call, counted as the
// UTF-8 message bytes plus 26 bytes per event; one event at most 256 KiB (262,144 bytes);
// events in chronological order; one call must not span more than 24 hours.
export const CWL_MAX_EVENTS = 10_000;
export const CWL_MAX_CALL_BYTES = 1_048_576;
export const CWL_EVENT_OVERHEAD = 26;
export const CWL_MAX_EVENT_BYTES = 262_144;
export const CWL_MAX_SPAN_MS = 24 * 3600 * 1000;

/** Indices of `chunk` in chronological order, split so no group spans more than 24 h (pure). */
export function chronologicalGroups(chunk: readonly Packet[]): number[][] {
  const order = chunk.map((_, i) => i).sort((a, b) => chunk[a]!.receivedAt - chunk[b]!.receivedAt || a - b);
  const groups: number[][] = [];
  for (const i of order) {
    const g = groups.at(-1);
    if (g && chunk[i]!.receivedAt - chunk[g[0]!]!.receivedAt <= CWL_MAX_SPAN_MS) g.push(i);
    else groups.push([i]);
  }
  return groups;
}

/** Outcome of the k-th event of a call from rejectedLogEventsInfo (end indices inclusive). */
function rejected(k: number, info: PutLogEventsCommandOutput['rejectedLogEventsInfo']): DeliveryOutcome {
  if (info?.tooNewLogEventStartIndex !== undefined && k >= info.tooNewLogEventStartIndex) return failed('log event too new (more than 2 hours ahead)');
  if (info?.tooOldLogEventEndIndex !== undefined && k <= info.tooOldLogEventEndIndex) return failed('log event too old (older than the retention or 14 days)');
  if (info?.expiredLogEventEndIndex !== undefined && k <= info.expiredLogEventEndIndex) return failed('log event older than the log group retention');
  return delivered;
}

export function createCloudWatchLogsDestination(name: string, o: CloudWatchLogsOptions): Destination {
  const client = new CloudWatchLogsClient(awsClientConfig(o));
  const message = memoPerPacket((p: Packet) => textBody(p, o.body));
  const limits = {
    maxBatchPackets: CWL_MAX_EVENTS,
    maxBatchBytes: CWL_MAX_CALL_BYTES,
    maxPacketBytes: CWL_MAX_EVENT_BYTES,
    packetBytes: (p: Packet) => Buffer.byteLength(message(p)) + CWL_EVENT_OVERHEAD,
  };
  const put = (events: { timestamp: number; message: string }[]) =>
    client.send(new PutLogEventsCommand({ logGroupName: o.logGroupName, logStreamName: o.logStreamName, logEvents: events }));
  const putCreating = async (events: { timestamp: number; message: string }[]) => {
    try {
      return await put(events);
    } catch (err) {
      if (!o.createIfMissing || (err as Error).name !== 'ResourceNotFoundException') throw err;
      await client.send(new CreateLogStreamCommand({ logGroupName: o.logGroupName, logStreamName: o.logStreamName }))
        .catch((e: Error) => { if (e.name !== 'ResourceAlreadyExistsException') throw e; });
      return put(events);
    }
  };
  const sendChunk = async (chunk: readonly Packet[]): Promise<BatchResult> => {
    const outcomes: DeliveryOutcome[] = chunk.map(() => delivered);
    for (const group of chronologicalGroups(chunk)) {
      const res = await putCreating(group.map((i) => ({ timestamp: chunk[i]!.receivedAt, message: message(chunk[i]!) })));
      group.forEach((i, k) => { outcomes[i] = rejected(k, res.rejectedLogEventsInfo); });
    }
    return { outcomes };
  };
  return {
    kind: 'cloudwatch-logs', name, limits,
    sendBatch: (batch) => guarded(batch, sendChunk),
    close: closeOnce(client),
  };
}

