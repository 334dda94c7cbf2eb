/**
 * eventbridge: one event per packet, PutEvents; Detail is the single-message event JSON.
 * Entries reported failed (FailedEntryCount, per-entry ErrorCode) come back per packet: throttling
 * and internal failures 'retryable', the rest 'failed'.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { delivered, type Destination, type DeliveryOutcome } from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { eventJson } from '../../aws/body.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { outcomeForEntryError } from '../../aws/errors.js';
import { EventBridgeOptions } from './options.js';
export { EventBridgeOptions } from './options.js';

// EventBridge PutEvents: at most 10 entries and 256 KiB (262,144 bytes) per call. Entry size
// (AWS "Calculating PutEvents event entry size"): 14 bytes for Time, plus the UTF-8 bytes of
// Source, DetailType and Detail (plus Resources, which we do not send).
export const EVENTBRIDGE_MAX_ENTRIES = 10;
export const EVENTBRIDGE_MAX_CALL_BYTES = 262_144;
const TIME_BYTES = 14;

export function createEventBridgeDestination(name: string, o: EventBridgeOptions): Destination {
  const client = new EventBridgeClient(awsClientConfig(o));
  const detail = memoPerPacket(eventJson);
  const fixed = TIME_BYTES + Buffer.byteLength(o.source) + Buffer.byteLength(o.detailType);
  const limits = {
    maxBatchPackets: EVENTBRIDGE_MAX_ENTRIES,
    maxBatchBytes: EVENTBRIDGE_MAX_CALL_BYTES,
    maxPacketBytes: EVENTBRIDGE_MAX_CALL_BYTES,
    packetBytes: (p: Packet) => fixed + Buffer.byteLength(detail(p)),
  };
  return {
    kind: 'eventbridge', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      const outcomes: DeliveryOutcome[] = chunk.map(() => delivered);
      if (chunk.length === 0) return { outcomes };
      const res = await client.send(new PutEventsCommand({
        Entries: chunk.map((p) => ({
          Source: o.source, DetailType: o.detailType, Detail: detail(p), EventBusName: o.eventBusName, Time: new Date(p.receivedAt),
        })),
      }));
      if (res.FailedEntryCount) {
        res.Entries?.forEach((e, i) => { if (e.ErrorCode) outcomes[i] = outcomeForEntryError(e.ErrorCode, e.ErrorMessage); });
      }
      return { outcomes };
    }),
    close: closeOnce(client),
  };
}

