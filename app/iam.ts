/**
 * The IAM statements a gateway config needs, derived from each kind's manifest (pure: infra/ calls
 * it at synth to build the task role). Destinations, their dead-letter targets (destinations too)
 * and packet sources; a kind without `iam` calls no AWS API. An unknown type is an error, so a
 * config can never deploy with a destination whose permissions nobody derived.
 */
import type { ArnContext, IamStatement } from '../gateway/extension/iam.js';
import { destinationKinds, packetSourceKinds, type KindRegistry } from '../gateway/extension/registry.js';
import { mergeStatements } from '../aws/iam.js';
import './builtin-kinds.js';

type Entry = Record<string, unknown>;

export function iamStatementsFor(registry: KindRegistry<{ readonly type: string; iam?(o: never, c: ArnContext): IamStatement[] }>, entry: Entry, ctx: ArnContext, where: string): IamStatement[] {
  const { type } = entry;
  if (typeof type !== 'string') throw new Error(`${where}: "type" is required`);
  const kind = registry.get(type);
  if (!kind) throw new Error(`${where}: type "${type}" has no IAM rule: no ${registry.what} kind of that name (use one of ${registry.types().join(', ')})`);
  return kind.iam ? kind.iam(entry as never, ctx) : [];
}

/** `deadLetter` in any of its forms, as a destination entry. */
export function deadLetterEntry(dl: unknown): Entry | undefined {
  if (!dl || typeof dl !== 'object') return undefined;
  const d = dl as Entry;
  if (typeof d.file === 'string') return { type: 'file', path: d.file };
  if (typeof d.sqsQueueUrl === 'string') return { type: 'sqs', queueUrl: d.sqsQueueUrl, ...(d.region ? { region: d.region } : {}) };
  return d;
}

export interface ConfigForIam {
  readonly listeners: readonly { readonly destinations: readonly Entry[] }[];
  readonly packetSources?: readonly Entry[];
}

/** All statements the gateway's role needs for this config, merged (same actions → one statement). */
export function iamStatementsForConfig(config: ConfigForIam, ctx: ArnContext): IamStatement[] {
  const out: IamStatement[] = [];
  config.listeners.forEach((l, li) => l.destinations.forEach((d, di) => {
    const at = `listeners[${li}].destinations[${di}]`;
    out.push(...iamStatementsFor(destinationKinds, d, ctx, at));
    const dl = deadLetterEntry(d.deadLetter);
    if (dl) out.push(...iamStatementsFor(destinationKinds, dl, ctx, `${at}.deadLetter`));
  }));
  (config.packetSources ?? []).forEach((p, pi) => out.push(...iamStatementsFor(packetSourceKinds, p, ctx, `packetSources[${pi}]`)));
  return mergeStatements(out);
}
