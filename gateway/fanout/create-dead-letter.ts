/** Build the dead-letter a destination's config names: a local NDJSON file or an SQS queue. */
import type { DeadLetter } from './dead-letter.js';
import { createFileDeadLetter } from './dead-letter.js';

const SQS_DEAD_LETTER = '../../aws/sqs-dead-letter.js';

export type DeadLetterConfig = { file: string } | { sqsQueueUrl: string; region?: string; endpoint?: string };

export async function createDeadLetter(cfg: DeadLetterConfig, destination: string, baseDir: string): Promise<DeadLetter> {
  if ('file' in cfg) return createFileDeadLetter(cfg.file, destination, baseDir);
  // Loaded lazily so that a gateway without AWS destinations does not load the AWS SDK.
  const mod = (await import(SQS_DEAD_LETTER)) as { createSqsDeadLetter(c: typeof cfg): DeadLetter };
  return mod.createSqsDeadLetter(cfg);
}
