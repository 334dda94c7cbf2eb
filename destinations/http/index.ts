/**
 * `http` destination: POSTs each batch as the {"Messages":[…]} event (gateway/event.ts) to a URL
 * over a keep-alive connection. A 2xx answer may carry {"Replies":[…]}, sent back by tag.
 * 429, 5xx, network errors and timeouts are retryable; other statuses fail the batch.
 */
import {
  allOutcomes, delivered, failed, retryable,
  type BatchResult, type Destination, type DestinationContext, type DeliveryOutcome,
} from '../../gateway/plugin-kit.js';
import type { Packet, Reply } from '../../gateway/plugin-kit.js';
import { toEvent } from '../../gateway/plugin-kit.js';
import { GatewayError } from '../../gateway/plugin-kit.js';
import { repliesFrom, type ReplyStats } from '../../gateway/plugin-kit.js';
import { createAgent, postJson, HttpTimeoutError, type HttpAnswer } from './post.js';

export interface HttpOptions {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly maxBatchPackets?: number;
}

/** Largest answer read, as for a Lambda response payload (6 MB synchronous invocation limit). */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** Outcome of a status code: 429 and 5xx may succeed later, other non-2xx will not. */
export function outcomeOfStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return delivered;
  if (status === 429 || status >= 500) return retryable(`http ${status}`);
  return failed(`http ${status}: the endpoint refused the batch`);
}

function parseUrl(name: string, text: string): URL {
  try {
    return new URL(text);
  } catch (err) {
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${name}": url "${text}" is not a valid URL`, { cause: err });
  }
}

export function createHttpDestination(name: string, options: HttpOptions, ctx: DestinationContext): Destination {
  const url = parseUrl(name, options.url);
  const logger = ctx.logger.child({ kind: 'http' });
  const agent = createAgent(url);
  const post = { agent, headers: options.headers ?? {}, timeoutMs: options.timeoutMs ?? 5_000, maxResponseBytes: MAX_RESPONSE_BYTES };
  const stats: ReplyStats & { unparsedAnswers: number; requestErrors: number } = { repliesRejected: 0, unparsedAnswers: 0, requestErrors: 0 };

  function repliesOf(answer: HttpAnswer, batch: readonly Packet[]): Reply[] {
    if (answer.body.length === 0 && !answer.truncated) return [];
    let body: unknown;
    try {
      if (answer.truncated) throw new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`);
      body = JSON.parse(answer.body.toString('utf8'));
    } catch (err) {
      stats.unparsedAnswers++;
      logger.warn({ err }, 'answer is not a JSON {"Replies":[…]} document; no replies sent');
      return [];
    }
    return repliesFrom(body, batch, stats, logger);
  }

  async function sendBatch(batch: readonly Packet[], signal: AbortSignal): Promise<BatchResult> {
    if (batch.length === 0) return { outcomes: [] };
    let answer: HttpAnswer;
    try {
      answer = await postJson(url, Buffer.from(JSON.stringify(toEvent(batch))), post, signal);
    } catch (err) {
      stats.requestErrors++;
      const reason = err instanceof HttpTimeoutError ? `http timeout: ${err.message}` : `http request failed: ${(err as Error).message}`;
      return { outcomes: allOutcomes(batch.length, retryable(reason)) };
    }
    const outcome = outcomeOfStatus(answer.status);
    if (outcome.status !== 'delivered') return { outcomes: allOutcomes(batch.length, outcome) };
    const replies = repliesOf(answer, batch);
    return replies.length ? { outcomes: allOutcomes(batch.length, delivered), replies } : { outcomes: allOutcomes(batch.length, delivered) };
  }

  return {
    kind: 'http',
    name,
    limits: { maxBatchPackets: options.maxBatchPackets ?? 100 },
    sendBatch,
    close: async () => { agent.destroy(); },
    status: () => ({ url: `${url.origin}${url.pathname}`, ...stats }),
  };
}

export { HttpOptionsSchema } from './options.js';
