/**
 * Least-privilege IAM statements derived from a gateway config (pure: no CDK, no I/O).
 * Every statement names the exact resource ARN the config points at; no destination action gets "*".
 *
 * Option names and the API calls made follow the gateway's destination kinds (destinations/<kind>/index.ts):
 * lambda functionName (+ qualifier), sqs queueUrl, sns topicArn, kinesis streamName | streamArn, firehose
 * deliveryStreamName, s3 bucket + prefix (default "udp-gateway/"), dynamodb tableName, cloudwatch-logs
 * logGroupName + logStreamName (+ createIfMissing), eventbridge eventBusName, stepfunctions stateMachineArn.
 * A config type this file does not know is an error, so a new AWS destination can never deploy without IAM.
 */
import type { GatewayConfigInput, DestinationInput } from './gateway-config.js';

export interface IamStatement { readonly actions: string[]; readonly resources: string[] }

/** Where names (not ARNs) resolve: the stack's partition, region and account (CDK tokens are fine). */
export interface ArnContext { readonly partition: string; readonly region: string; readonly account: string }

/** Destination and packet-source types that call no AWS API. */
export const NON_AWS_TYPES: readonly string[] = ['handler', 'udp', 'http', 'file', 'stdout', 'null', 'redis', 'statsd', 'sns-http', 'http-api'];

type Options = Record<string, unknown>;
type Rule = (o: Options, ctx: ArnContext) => IamStatement[];

const str = (o: Options, key: string, type: string): string => {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new Error(`${type} destination needs "${key}" (a non-empty string) to derive its IAM policy`);
  return v;
};
const regionOf = (o: Options, ctx: ArnContext): string => (typeof o.region === 'string' && o.region ? o.region : ctx.region);
const arn = (ctx: ArnContext, service: string, region: string, resource: string, account = ctx.account) =>
  `arn:${ctx.partition}:${service}:${region}:${account}:${resource}`;
const isArn = (s: string) => s.startsWith('arn:');

/** SQS queue URL → queue ARN. Accepts https://sqs.<region>.amazonaws.com/<account>/<name>,
 *  the legacy https://<region>.queue.amazonaws.com/…, and local endpoints (region from options/stack). */
export function queueArnFromUrl(url: string, ctx: ArnContext, region?: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new Error(`"${url}" is not an SQS queue URL`); }
  const [account, name] = u.pathname.split('/').filter(Boolean);
  if (!account || !name || !/^\d{12}$/.test(account)) throw new Error(`"${url}" is not an SQS queue URL (expected …/<12-digit account>/<queue name>)`);
  const host = /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(u.hostname) ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com/.exec(u.hostname);
  return arn(ctx, 'sqs', host?.[1] ?? region ?? ctx.region, name, account);
}

/** Lambda accepts a name, name:qualifier, a partial ARN (account:function:name) or a full ARN. */
export function lambdaArn(fn: string, ctx: ArnContext, region: string): string {
  if (isArn(fn)) return fn;
  const partial = /^(\d{12}):function:(.+)$/.exec(fn);
  if (partial) return arn(ctx, 'lambda', region, `function:${partial[2]}`, partial[1]);
  return arn(ctx, 'lambda', region, `function:${fn}`);
}

/** `executionType` (default EXPRESS, as the destination's schema): EXPRESS runs synchronously
 *  (StartSyncExecution, replies), STANDARD asynchronously (StartExecution). */
function stepFunctionsActions(o: Options): string[] {
  const t = o.executionType ?? 'EXPRESS';
  if (t === 'EXPRESS') return ['states:StartSyncExecution'];
  if (t === 'STANDARD') return ['states:StartExecution'];
  throw new Error(`stepfunctions executionType must be EXPRESS or STANDARD, got ${JSON.stringify(t)}`);
}

const destinationRules: Record<string, Rule> = {
  // Invoke and InvokeWithResponseStream are both authorised by lambda:InvokeFunction.
  lambda: (o, c) => {
    const fn = lambdaArn(str(o, 'functionName', 'lambda'), c, regionOf(o, c));
    return [{ actions: ['lambda:InvokeFunction'], resources: [typeof o.qualifier === 'string' && o.qualifier ? `${fn}:${o.qualifier}` : fn] }];
  },
  sqs: (o, c) => [{ actions: ['sqs:SendMessage'], resources: [queueArnFromUrl(str(o, 'queueUrl', 'sqs'), c, regionOf(o, c))] }],
  sns: (o, c) => [{ actions: ['sns:Publish'], resources: [str(o, 'topicArn', 'sns')] }],
  kinesis: (o, c) => {
    const resource = typeof o.streamArn === 'string' && o.streamArn
      ? o.streamArn : arn(c, 'kinesis', regionOf(o, c), `stream/${str(o, 'streamName', 'kinesis')}`);
    return [{ actions: ['kinesis:PutRecords'], resources: [resource] }];
  },
  firehose: (o, c) => [{
    actions: ['firehose:PutRecordBatch'],
    resources: [arn(c, 'firehose', regionOf(o, c), `deliverystream/${str(o, 'deliveryStreamName', 'firehose')}`)],
  }],
  s3: (o, c) => {
    const prefix = typeof o.prefix === 'string' ? o.prefix : 'udp-gateway/'; // the s3 destination's default
    return [{ actions: ['s3:PutObject'], resources: [`arn:${c.partition}:s3:::${str(o, 'bucket', 's3')}/${prefix}*`] }];
  },
  dynamodb: (o, c) => [{
    actions: ['dynamodb:BatchWriteItem'],
    resources: [arn(c, 'dynamodb', regionOf(o, c), `table/${str(o, 'tableName', 'dynamodb')}`)],
  }],
  'cloudwatch-logs': (o, c) => {
    const group = arn(c, 'logs', regionOf(o, c), `log-group:${str(o, 'logGroupName', 'cloudwatch-logs')}`);
    const out = [{ actions: ['logs:PutLogEvents'], resources: [`${group}:log-stream:${str(o, 'logStreamName', 'cloudwatch-logs')}`] }];
    if (o.createIfMissing === true) out.push({ actions: ['logs:CreateLogStream'], resources: [`${group}:*`] });
    return out;
  },
  eventbridge: (o, c) => {
    const bus = typeof o.eventBusName === 'string' && o.eventBusName ? o.eventBusName : 'default';
    return [{ actions: ['events:PutEvents'], resources: [isArn(bus) ? bus : arn(c, 'events', regionOf(o, c), `event-bus/${bus}`)] }];
  },
  stepfunctions: (o) => [{ actions: stepFunctionsActions(o), resources: [str(o, 'stateMachineArn', 'stepfunctions')] }],
};

const packetSourceRules: Record<string, Rule> = {
  sqs: (o, c) => [{
    actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], // the sqs packet source: ReceiveMessage + DeleteMessageBatch
    resources: [queueArnFromUrl(str(o, 'queueUrl', 'sqs packet source'), c, regionOf(o, c))],
  }],
};

function deadLetterStatements(d: DestinationInput, c: ArnContext): IamStatement[] {
  const dl = d.deadLetter as Options | undefined;
  if (!dl || typeof dl.sqsQueueUrl !== 'string') return [];
  return [{ actions: ['sqs:SendMessage'], resources: [queueArnFromUrl(dl.sqsQueueUrl, c, regionOf(dl, c))] }];
}

function rulesFor(table: Record<string, Rule>, type: unknown, where: string): Rule | undefined {
  if (typeof type !== 'string') throw new Error(`${where}: "type" is required`);
  if (NON_AWS_TYPES.includes(type)) return undefined;
  const rule = table[type];
  if (!rule) throw new Error(`${where}: type "${type}" has no IAM rule in infra/lib/iam-from-config.ts; add one (or list it in NON_AWS_TYPES)`);
  return rule;
}

/** All statements the gateway task role needs for this config, merged (same actions → one statement). */
export function iamStatementsFromConfig(config: GatewayConfigInput, ctx: ArnContext): IamStatement[] {
  const out: IamStatement[] = [];
  config.listeners.forEach((l, li) => l.destinations.forEach((d, di) => {
    const rule = rulesFor(destinationRules, d.type, `listeners[${li}].destinations[${di}]`);
    if (rule) out.push(...rule(d, ctx));
    out.push(...deadLetterStatements(d, ctx));
  }));
  (config.packetSources ?? []).forEach((p, pi) => {
    const rule = rulesFor(packetSourceRules, p.type, `packetSources[${pi}]`);
    if (rule) out.push(...rule(p, ctx));
  });
  return mergeStatements(out);
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
