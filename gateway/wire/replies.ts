/** Reply parsing shared by the request/response destinations (handler, http, lambda, stepfunctions). */
import type { Logger } from 'pino';
import type { Formatter, Packet, Reply } from '../packet.js';
import { parseReplies } from './event.js';

/** The formatter of each packet of a batch, by tag (a reply's Data is decoded with its packet's formatter). */
export function formatterOfBatch(batch: readonly Packet[]): (tag: string) => Formatter | undefined {
  if (batch.length === 1) {
    const only = batch[0]!;
    return (tag) => (tag === only.tag ? only.formatter : undefined);
  }
  const byTag = new Map<string, Formatter>();
  for (const p of batch) byTag.set(p.tag, p.formatter);
  return (tag) => byTag.get(tag);
}

export interface ReplyStats { repliesRejected: number }

/** Parse a {"Replies":[…]} answer; rejected entries are counted in stats and logged once per batch. */
export function repliesFrom(body: unknown, batch: readonly Packet[], stats: ReplyStats, logger: Logger): Reply[] {
  const { replies, rejected } = parseReplies(body, formatterOfBatch(batch));
  if (rejected.length > 0) {
    stats.repliesRejected += rejected.length;
    logger.warn({ rejected: rejected.slice(0, 5), count: rejected.length }, 'replies ignored: each needs a Tag and Data in the packet formatter');
  }
  return replies;
}
