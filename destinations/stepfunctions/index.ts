/**
 * stepfunctions: the batch as one event ({"Messages":[…]}) as the execution input.
 * - EXPRESS: StartSyncExecution; the output's {"Replies":[…]} go back to clients; FAILED or
 *   TIMED_OUT fails the batch with the error and cause.
 * - STANDARD: StartExecution (asynchronous; no replies).
 */
import { SFNClient, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import {
  allOutcomes, delivered, failed, type BatchResult, type Destination, type DestinationContext,
} from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { toEvent, parseReplies } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { eventJson } from '../../aws/body.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { formatterOfBatch } from '../../gateway/plugin-kit.js';
import { StepFunctionsOptions } from './options.js';
export { StepFunctionsOptions } from './options.js';

// Step Functions: execution input at most 256 KiB (262,144 bytes, UTF-8) for StartExecution and
// StartSyncExecution.
export const SFN_MAX_INPUT_BYTES = 262_144;
const ENVELOPE_BYTES = 15; // {"Messages":[ ... ]}

export function createStepFunctionsDestination(name: string, o: StepFunctionsOptions, ctx: Pick<DestinationContext, 'logger'>): Destination {
  // StartSyncExecution goes to the "sync-" host prefix; a custom endpoint (emulator, VPC endpoint)
  // is used as given.
  const client = new SFNClient({ ...awsClientConfig(o), disableHostPrefix: o.endpoint !== undefined });
  const message = memoPerPacket(eventJson);
  const limits = {
    maxBatchBytes: SFN_MAX_INPUT_BYTES - ENVELOPE_BYTES,
    maxPacketBytes: SFN_MAX_INPUT_BYTES - ENVELOPE_BYTES,
    packetBytes: (p: Packet) => Buffer.byteLength(message(p)) + 1,
  };
  const input = (chunk: readonly Packet[]) => JSON.stringify(toEvent(chunk));

  const express = async (chunk: readonly Packet[]): Promise<BatchResult> => {
    const res = await client.send(new StartSyncExecutionCommand({ stateMachineArn: o.stateMachineArn, input: input(chunk) }));
    if (res.status !== 'SUCCEEDED') {
      return { outcomes: allOutcomes(chunk.length, failed(`execution ${res.status ?? 'unknown'}: ${res.error ?? ''} ${res.cause ?? ''}`.trim())) };
    }
    let body: unknown;
    try { body = res.output ? JSON.parse(res.output) : undefined; } catch { body = undefined; }
    const { replies, rejected } = parseReplies(body, formatterOfBatch(chunk));
    if (rejected.length) ctx.logger.warn({ rejected }, 'state machine replies rejected');
    return { outcomes: allOutcomes(chunk.length, delivered), replies };
  };

  const standard = async (chunk: readonly Packet[]): Promise<BatchResult> => {
    await client.send(new StartExecutionCommand({ stateMachineArn: o.stateMachineArn, input: input(chunk) }));
    return { outcomes: allOutcomes(chunk.length, delivered) };
  };

  return {
    kind: 'stepfunctions', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      if (chunk.length === 0) return { outcomes: [] };
      return o.executionType === 'EXPRESS' ? express(chunk) : standard(chunk);
    }),
    close: closeOnce(client),
  };
}

