/**
 * `file` destination: an NDJSON archive, one line per packet (the single-message JSON of
 * gateway/event.ts), or the raw bytes plus "\n" when `raw` is set. One write call per batch;
 * size-based rotation path → path.1 → … → path.<maxFiles>.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  allOutcomes, delivered, retryable,
  type BatchResult, type Destination, type DestinationContext,
} from '../../gateway/plugin-kit.js';
import type { Packet } from '../../gateway/plugin-kit.js';
import { toEventMessage } from '../../gateway/plugin-kit.js';
import { GatewayError } from '../../gateway/plugin-kit.js';
import { RotatingFile } from './rotating-file.js';

export interface FileOptions {
  readonly path: string;
  readonly maxBytes?: number;
  readonly maxFiles?: number;
  readonly raw?: boolean;
}

const NEWLINE = Buffer.from('\n');

/** The bytes of one batch: NDJSON lines, or raw datagrams each followed by a newline. */
export function encodeBatch(batch: readonly Packet[], raw: boolean): Buffer {
  if (!raw) return Buffer.from(batch.map((p) => JSON.stringify(toEventMessage(p)) + '\n').join(''), 'utf8');
  const parts: Buffer[] = [];
  for (const p of batch) parts.push(p.data, NEWLINE);
  return Buffer.concat(parts);
}

export function createFileDestination(name: string, options: FileOptions, ctx: DestinationContext): Destination {
  const path = resolve(ctx.baseDir, options.path);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE',
      `destination "${name}": cannot create the directory of ${path}: ${(err as Error).message}`, { cause: err });
  }
  const logger = ctx.logger.child({ kind: 'file' });
  const file = new RotatingFile(path, options.maxBytes ?? 64 * 1024 * 1024, options.maxFiles ?? 5);
  const raw = options.raw ?? false;
  let writeErrors = 0;

  async function sendBatch(batch: readonly Packet[]): Promise<BatchResult> {
    if (batch.length === 0) return { outcomes: [] };
    try {
      await file.append(encodeBatch(batch, raw));
      return { outcomes: allOutcomes(batch.length, delivered) };
    } catch (err) {
      writeErrors++;
      logger.warn({ err }, 'file write failed; the batch will be retried');
      return { outcomes: allOutcomes(batch.length, retryable(`write failed: ${(err as Error).message}`)) };
    }
  }

  return {
    kind: 'file',
    name,
    sendBatch,
    close: () => file.close(),
    status: () => ({ path, bytes: file.size, rotations: file.rotations, writeErrors }),
  };
}

export { FileOptionsSchema } from './options.js';
