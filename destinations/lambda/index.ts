/**
 * lambda: the batch as one event ({"Messages":[…]}), Invoke.
 * - RequestResponse: the answer's {"Replies":[…]} become BatchResult.replies; a FunctionError fails
 *   the batch with the function's errorMessage; throttling, 5xx and network errors are retryable.
 * - Event: asynchronous invoke, fire and forget (delivered once Lambda accepted it).
 * - ResponseStream: InvokeWithResponseStream; replies are parsed as they stream in and each goes to
 *   its client at once through ctx.clients.replyByTag (so they are not repeated in the result).
 */
import { LambdaClient, InvokeCommand, InvokeWithResponseStreamCommand } from '@aws-sdk/client-lambda';
import {
  allOutcomes, delivered, failed, type BatchResult, type Destination, type DestinationContext,
} from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { toEvent, parseReplies } from '../../gateway/plugin-kit.js';
import { awsClientConfig, closeOnce } from '../../aws/client-config.js';
import { eventJson } from '../../aws/body.js';
import { guarded, memoPerPacket } from '../../aws/batch.js';
import { ReplyStreamParser } from './reply-stream.js';
import { functionErrorReason } from './payload.js';
import { formatterOfBatch } from '../../gateway/plugin-kit.js';
import { LambdaOptions } from './options.js';
export { LambdaOptions } from './options.js';

// Lambda invocation payload (request): 6 MB (6,291,456 bytes) synchronous and streaming;
// 256 KiB (262,144 bytes) for asynchronous (Event) invokes. AWS has since raised the asynchronous
// limit to 1 MB; we keep 256 KiB to be safe everywhere.
export const LAMBDA_SYNC_MAX_BYTES = 6_291_456;
export const LAMBDA_ASYNC_MAX_BYTES = 262_144;
/** `{"Messages":[` + `]}`: the event envelope around the messages. */
const ENVELOPE_BYTES = 15;

export function createLambdaDestination(name: string, o: LambdaOptions, ctx: Pick<DestinationContext, 'clients' | 'logger'>): Destination {
  const client = new LambdaClient(awsClientConfig(o));
  const message = memoPerPacket(eventJson);
  const max = o.invocation === 'Event' ? LAMBDA_ASYNC_MAX_BYTES : LAMBDA_SYNC_MAX_BYTES;
  const limits = {
    maxBatchBytes: max - ENVELOPE_BYTES,
    maxPacketBytes: max - ENVELOPE_BYTES,
    packetBytes: (p: Packet) => Buffer.byteLength(message(p)) + 1, // + the comma between messages
  };
  const payload = (chunk: readonly Packet[]) => Buffer.from(JSON.stringify(toEvent(chunk)), 'utf8');
  const base = { FunctionName: o.functionName, Qualifier: o.qualifier };

  const invoke = async (chunk: readonly Packet[]): Promise<BatchResult> => {
    const res = await client.send(new InvokeCommand({ ...base, InvocationType: o.invocation === 'Event' ? 'Event' : 'RequestResponse', Payload: payload(chunk) }));
    const text = Buffer.from(res.Payload ?? new Uint8Array()).toString('utf8');
    if (res.FunctionError) return { outcomes: allOutcomes(chunk.length, failed(functionErrorReason(res.FunctionError, text))) };
    const outcomes = allOutcomes(chunk.length, delivered);
    if (o.invocation === 'Event' || text.trim() === '') return { outcomes };
    let body: unknown;
    try { body = JSON.parse(text); } catch {
      ctx.logger.warn('lambda answer is not JSON: no replies sent');
      return { outcomes };
    }
    const { replies, rejected } = parseReplies(body, formatterOfBatch(chunk));
    if (rejected.length) ctx.logger.warn({ rejected }, 'lambda replies rejected');
    return { outcomes, replies };
  };

  const stream = async (chunk: readonly Packet[]): Promise<BatchResult> => {
    const res = await client.send(new InvokeWithResponseStreamCommand({ ...base, Payload: payload(chunk) }));
    const parser = new ReplyStreamParser((r) => { ctx.clients.replyByTag(r.tag, r.data); }, formatterOfBatch(chunk));
    let error: string | undefined;
    for await (const ev of res.EventStream ?? []) {
      if (ev.PayloadChunk?.Payload) parser.push(ev.PayloadChunk.Payload);
      if (ev.InvokeComplete?.ErrorCode) error = `${ev.InvokeComplete.ErrorCode}: ${ev.InvokeComplete.ErrorDetails ?? ''}`.trim();
    }
    parser.end();
    if (parser.rejected) ctx.logger.warn({ rejected: parser.rejected }, 'streamed lambda replies rejected');
    return { outcomes: allOutcomes(chunk.length, error ? failed(`function error: ${error}`) : delivered) };
  };

  return {
    kind: 'lambda', name, limits,
    sendBatch: (batch) => guarded(batch, async (chunk) => {
      if (chunk.length === 0) return { outcomes: [] };
      return o.invocation === 'ResponseStream' ? stream(chunk) : invoke(chunk);
    }),
    close: closeOnce(client),
  };
}

