/**
 * ARN helpers for the AWS kinds' manifests, whose `iam(options, arn)` states the least-privilege
 * statements a destination or source needs (infra/ builds the task role from them; pure: no CDK,
 * no I/O). Every statement names the exact resource the options point at; a missing option that
 * the resource depends on is an error, never a "*".
 */
import type { ArnContext, IamStatement } from '../gateway/plugin-kit.js';

export type { ArnContext, IamStatement };
type Options = Record<string, unknown>;

/** A required string option; throws naming the kind and key. */
export function required(o: Options, key: string, kind: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new Error(`${kind} needs "${key}" (a non-empty string) to derive its IAM policy`);
  return v;
}

export const regionOf = (o: Options, ctx: ArnContext): string => (typeof o.region === 'string' && o.region ? o.region : ctx.region);
export const isArn = (s: string): boolean => s.startsWith('arn:');

export function arn(ctx: ArnContext, service: string, region: string, resource: string, account = ctx.account): string {
  return `arn:${ctx.partition}:${service}:${region}:${account}:${resource}`;
}

/** SQS queue URL → queue ARN: https://sqs.<region>.amazonaws.com[.cn]/<account>/<name>, the legacy
 *  https://<region>.queue.amazonaws.com/… and https://queue.amazonaws.com/… (us-east-1), and local
 *  endpoints (region from the options or the stack). */
export function queueArnFromUrl(url: string, ctx: ArnContext, region?: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new Error(`"${url}" is not an SQS queue URL`); }
  const [account, name] = u.pathname.split('/').filter(Boolean);
  if (!account || !name || !/^\d{12}$/.test(account)) throw new Error(`"${url}" is not an SQS queue URL (expected …/<12-digit account>/<queue name>)`);
  const host = u.hostname;
  const r = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1]
    ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host)?.[1]
    ?? (host === 'queue.amazonaws.com' ? 'us-east-1' : region ?? ctx.region);
  const partition = host.endsWith('.amazonaws.com.cn') ? 'aws-cn' : ctx.partition;
  return arn({ ...ctx, partition }, 'sqs', r, name, account);
}

/** Lambda accepts a name, name:qualifier, a partial ARN (account:function:name) or a full ARN. */
export function lambdaArn(fn: string, ctx: ArnContext, region: string): string {
  if (isArn(fn)) return fn;
  const partial = /^(\d{12}):function:(.+)$/.exec(fn);
  if (partial) return arn(ctx, 'lambda', region, `function:${partial[2]}`, partial[1]);
  return arn(ctx, 'lambda', region, `function:${fn}`);
}

/** Statements with identical action sets are merged; resources are de-duplicated, order kept. */
export function mergeStatements(statements: readonly IamStatement[]): IamStatement[] {
  const byActions = new Map<string, IamStatement>();
  for (const s of statements) {
    const key = [...s.actions].sort().join(',');
    const prev = byActions.get(key);
    if (!prev) byActions.set(key, { actions: [...s.actions], resources: [...new Set(s.resources)] });
    else for (const r of s.resources) if (!prev.resources.includes(r)) prev.resources.push(r);
  }
  return [...byActions.values()];
}
