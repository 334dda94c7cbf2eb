/**
 * Least-privilege IAM statements for an AWS destination, derived from its options (pure).
 * Used by the infra (CDK) app to build the gateway's role from the gateway config.
 * Unknown parts of an ARN (account, region when not given) are "*".
 */
export interface IamStatement { actions: string[]; resources: string[] }

type Options = Record<string, unknown>;
const str = (o: Options, k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function arn(service: string, o: Options, resource: string, region = str(o, 'region') ?? '*'): string {
  return `arn:${partitionOf(region)}:${service}:${region}:*:${resource}`;
}

/** SQS queue URL → queue ARN (https://sqs.<region>.amazonaws.com/<account>/<name>, legacy and local forms). */
export function sqsQueueArn(queueUrl: string, region?: string): string {
  let url: URL;
  try { url = new URL(queueUrl); } catch { return `arn:aws:sqs:${region ?? '*'}:*:*`; }
  const [account = '*', name = '*'] = url.pathname.split('/').filter(Boolean);
  const host = url.hostname;
  const r = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1]
    ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host)?.[1]
    ?? (host === 'queue.amazonaws.com' ? 'us-east-1' : region ?? '*');
  const partition = host.endsWith('.amazonaws.com.cn') ? 'aws-cn' : partitionOf(r);
  return `arn:${partition}:sqs:${r}:${account}:${name}`;
}

/** Lambda function name, partial ARN or ARN (+ qualifier) → the ARNs InvokeFunction needs. */
function lambdaArns(o: Options): string[] {
  const fn = str(o, 'functionName') ?? '*';
  const qualifier = str(o, 'qualifier');
  let base: string;
  if (fn.startsWith('arn:')) base = fn.split(':').slice(0, 7).join(':');
  else if (/^\d{12}:function:/.test(fn)) base = arn('lambda', o, '').replace(/\*:$/, '') + fn.split(':').slice(0, 3).join(':');
  else base = arn('lambda', o, `function:${fn.split(':')[0]}`);
  const fromArn = fn.startsWith('arn:') ? fn.split(':')[7] : undefined;
  const q = qualifier ?? fromArn;
  return q ? [`${base}:${q}`] : [base, `${base}:*`];
}

const byType: Record<string, (o: Options) => IamStatement[]> = {
  lambda: (o) => [{ actions: ['lambda:InvokeFunction'], resources: lambdaArns(o) }],
  stepfunctions: (o) => [{
    actions: [o.executionType === 'STANDARD' ? 'states:StartExecution' : 'states:StartSyncExecution'],
    resources: [str(o, 'stateMachineArn') ?? '*'],
  }],
  sqs: (o) => [{ actions: ['sqs:SendMessage'], resources: [sqsQueueArn(str(o, 'queueUrl') ?? '', str(o, 'region'))] }],
  sns: (o) => [{ actions: ['sns:Publish'], resources: [str(o, 'topicArn') ?? '*'] }],
  kinesis: (o) => [{ actions: ['kinesis:PutRecords'], resources: [str(o, 'streamArn') ?? arn('kinesis', o, `stream/${str(o, 'streamName') ?? '*'}`)] }],
  firehose: (o) => [{ actions: ['firehose:PutRecordBatch'], resources: [arn('firehose', o, `deliverystream/${str(o, 'deliveryStreamName') ?? '*'}`)] }],
  s3: (o) => [{ actions: ['s3:PutObject'], resources: [`arn:${partitionOf(str(o, 'region') ?? '')}:s3:::${str(o, 'bucket') ?? '*'}/${str(o, 'prefix') ?? 'udp-gateway/'}*`] }],
  dynamodb: (o) => [{ actions: ['dynamodb:BatchWriteItem'], resources: [arn('dynamodb', o, `table/${str(o, 'tableName') ?? '*'}`)] }],
  'cloudwatch-logs': (o) => {
    const group = arn('logs', o, `log-group:${str(o, 'logGroupName') ?? '*'}`);
    const out: IamStatement[] = [{ actions: ['logs:PutLogEvents'], resources: [`${group}:log-stream:${str(o, 'logStreamName') ?? '*'}`] }];
    if (o.createIfMissing === true) out.push({ actions: ['logs:CreateLogStream'], resources: [group, `${group}:*`] });
    return out;
  },
  eventbridge: (o) => {
    const bus = str(o, 'eventBusName') ?? 'default';
    return [{ actions: ['events:PutEvents'], resources: [bus.startsWith('arn:') ? bus : arn('events', o, `event-bus/${bus}`)] }];
  },
};

/**
 * IAM statements a destination of `type` with `options` needs. Non-AWS types give [].
 * If options carry `deadLetter: { sqsQueueUrl }`, sqs:SendMessage on that queue is added.
 */
export function iamStatementsFor(type: string, options: Record<string, unknown>): { actions: string[]; resources: string[] }[] {
  const out = byType[type]?.(options) ?? [];
  const dl = options.deadLetter as { sqsQueueUrl?: unknown; region?: unknown } | undefined;
  if (dl && typeof dl.sqsQueueUrl === 'string') {
    out.push({ actions: ['sqs:SendMessage'], resources: [sqsQueueArn(dl.sqsQueueUrl, typeof dl.region === 'string' ? dl.region : undefined)] });
  }
  return out;
}
