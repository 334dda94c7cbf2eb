/**
 * Where finally-failed packets go, so nothing accepted vanishes without a trace:
 * a local NDJSON file, or an SQS queue (destinations/aws/sqs-dead-letter.ts).
 */
import { mkdir, appendFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Packet } from '../packet.js';
import { toEventMessage } from '../wire/event.js';

export interface DeadLetter {
  write(packets: readonly Packet[], reason: string): Promise<void>;
}

export function deadLetterLine(p: Packet, destination: string, reason: string): string {
  return JSON.stringify({ ...toEventMessage(p), Destination: destination, Reason: reason, FailedAt: new Date().toISOString() });
}

export function createFileDeadLetter(file: string, destination: string, baseDir: string): DeadLetter {
  const path = resolve(baseDir, file);
  let ready: Promise<unknown> | undefined;
  return {
    async write(packets, reason) {
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      await appendFile(path, packets.map((p) => deadLetterLine(p, destination, reason) + '\n').join(''));
    },
  };
}
