/** FIFO message group and deduplication ids (SQS FIFO queues, SNS FIFO topics) from expressions. */
import { Type } from '@sinclair/typebox';
import type { Packet } from '../gateway/plugin-kit.js';
import { delivered, failed, type DeliveryOutcome } from '../gateway/plugin-kit.js';
import { outcomeForEntryError } from './errors.js';
import { EXPRESSION_FORMAT, EXPRESSION_HELP, type Expression } from '../gateway/plugin-kit.js';
import { compileExpression } from './create-error.js';

export const ExpressionSchema = (description: string, def?: string) =>
  Type.String({ minLength: 1, format: EXPRESSION_FORMAT, description: `${description}; ${EXPRESSION_HELP}`, ...(def === undefined ? {} : { default: def }) });

export const FifoSchema = {
  messageGroupId: Type.Optional(ExpressionSchema('FIFO message group id (default for FIFO: "${remote.address}:${remote.port}", per-client order)')),
  deduplicationId: Type.Optional(ExpressionSchema('FIFO deduplication id (default for FIFO: "${tag}", unique per packet, so a retried packet is not duplicated)')),
};

export interface FifoIds { MessageGroupId?: string; MessageDeduplicationId?: string }
export type FifoIdsOf = (p: Packet) => FifoIds | Error;

// SQS/SNS: MessageGroupId and MessageDeduplicationId are at most 128 characters.
const MAX_ID = 128;

export function fifoIds(name: string, fifo: boolean, o: { messageGroupId?: string; deduplicationId?: string }): FifoIdsOf {
  const group = o.messageGroupId ?? (fifo ? '${remote.address}:${remote.port}' : undefined);
  const dedup = o.deduplicationId ?? (fifo ? '${tag}' : undefined);
  const g = group ? compileExpression(name, 'messageGroupId', group) : undefined;
  const d = dedup ? compileExpression(name, 'deduplicationId', dedup) : undefined;
  return (p) => {
    const ids: FifoIds = {};
    if (g) ids.MessageGroupId = g(p);
    if (d) ids.MessageDeduplicationId = d(p);
    return checkIds(ids);
  };
}

function checkIds(ids: FifoIds): FifoIds | Error {
  for (const [k, v] of Object.entries(ids) as [string, string][]) {
    if (v.length === 0 || v.length > MAX_ID) return new Error(`${k} must be 1..${MAX_ID} characters, got ${v.length}`);
  }
  return ids;
}

export type { Expression };

/**
 * The entries of one SQS/SNS batch call (Id = index in the chunk) and the outcomes so far: a
 * packet whose FIFO ids cannot be computed fails alone; the others start as delivered.
 */
export function fifoBatchEntries<E>(chunk: readonly Packet[], ids: FifoIdsOf, entry: (p: Packet, id: string, f: FifoIds) => E): { outcomes: DeliveryOutcome[]; entries: E[] } {
  const outcomes: DeliveryOutcome[] = chunk.map(() => delivered);
  const entries: E[] = [];
  chunk.forEach((p, i) => {
    const f = ids(p);
    if (f instanceof Error) outcomes[i] = failed(f.message);
    else entries.push(entry(p, String(i), f));
  });
  return { outcomes, entries };
}

/** Marks the entries an SQS/SNS batch response lists under Failed (Id = index in the chunk). */
export function markFailedEntries(outcomes: DeliveryOutcome[], failedEntries: readonly { Id?: string; Code?: string; Message?: string; SenderFault?: boolean }[] | undefined): void {
  for (const f of failedEntries ?? []) outcomes[Number(f.Id)] = outcomeForEntryError(f.Code, f.Message, f.SenderFault);
}
