/**
 * cdk context keys (-c key=value) → stack options. Pure, so the tests check the parsing that
 * `cdk synth` / `cdk deploy` use. Unknown values are errors, not silently ignored.
 */
import type { StackOptions } from './app.js';
import type { SnsDelivery } from './udp-gateway.js';

export const CONTEXT_KEYS = {
  config: 'gateway config file (YAML or JSON); default example-config.yaml',
  image: 'asset (default: build ../Dockerfile at deploy, needs Docker and `cdk bootstrap`) | parameter (ImageUri parameter, no bootstrap)',
  nodeVersion: 'with image=asset: the Node.js major of the image (Dockerfile NODE_VERSION build argument)',
  example: 'true: also deploy the example app (counter Lambda, Firehose archive, notifier)',
  snsDelivery: 'sqs (default) | none',
  desiredCount: 'default of the DesiredCount parameter (tasks at creation; default 2)',
  minTasks: 'default of the MinTasks parameter (autoscaling minimum; default 2)',
  maxTasks: 'default of the MaxTasks parameter (autoscaling maximum; default 10)',
  cpu: 'default of the TaskCpu parameter (Fargate CPU units; default 512)',
  memory: 'default of the TaskMemory parameter (MiB; default 1024)',
  cpuTarget: 'autoscaling: target average CPU percent (default 60)',
  packetsPerSecond: 'autoscaling: target packets per second per task (default 20000)',
  dualStack: 'true: dual-stack VPC and NLB for IPv6 clients',
  elasticIps: 'true: one Elastic IP per AZ on the NLB (fixed addresses)',
  natGateways: 'NAT gateways (default 2, one per AZ; 0 needs vpcEndpoints=true)',
  vpcEndpoints: 'true: interface endpoints for ECR, Logs, SSM, Secrets Manager, SQS, SNS, CloudWatch',
  domainName: 'Route 53 alias record (e.g. gw.example.com), with hostedZoneId and hostedZoneName',
  hostedZoneId: 'hosted zone of domainName',
  hostedZoneName: 'name of that hosted zone (e.g. example.com)',
  kmsKeys: 'comma-separated customer-managed KMS key ARNs of destinations and header secrets',
  ssmTier: 'standard (default, 4 KB config) | advanced (8 KB; cannot be turned back)',
  agentImage: 'CloudWatch agent image (default: the pinned public one)',
  stackName: 'stack name (default UdpGateway)',
} as const;
export type ContextKey = keyof typeof CONTEXT_KEYS;

export interface ParsedContext {
  readonly configFile?: string;
  readonly image: 'asset' | 'parameter';
  readonly nodeVersion?: string;
  readonly exampleApp: boolean;
  readonly stackName?: string;
  readonly options: StackOptions;
}

export function parseContext(get: (key: ContextKey) => string | undefined): ParsedContext {
  const problems: string[] = [];
  const int = (key: ContextKey, min: number): number | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) { problems.push(`${key}=${v}: expected an integer ≥ ${min}`); return undefined; }
    return n;
  };
  const bool = (key: ContextKey): boolean | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') { problems.push(`${key}=${v}: expected true or false`); return undefined; }
    return v === 'true';
  };
  const oneOf = <T extends string>(key: ContextKey, values: readonly T[]): T | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    if (!values.includes(v as T)) { problems.push(`${key}=${v}: expected one of ${values.join(', ')}`); return undefined; }
    return v as T;
  };
  const image = oneOf('image', ['asset', 'parameter'] as const) ?? 'asset';
  const sns = oneOf('snsDelivery', ['sqs', 'none'] as const);
  const tier = oneOf('ssmTier', ['standard', 'advanced'] as const);
  const domain = get('domainName'); const zoneId = get('hostedZoneId'); const zoneName = get('hostedZoneName');
  if ((domain || zoneId || zoneName) && !(domain && zoneId && zoneName)) problems.push('domainName, hostedZoneId and hostedZoneName go together');
  const kms = get('kmsKeys')?.split(',').map((s) => s.trim()).filter(Boolean);
  if (kms?.some((k) => !/^arn:[^:]+:kms:/.test(k))) problems.push('kmsKeys: expected comma-separated KMS key ARNs');
  const nodeVersion = get('nodeVersion');
  if (nodeVersion !== undefined && !/^\d+(\.\d+){0,2}$/.test(nodeVersion)) problems.push(`nodeVersion=${nodeVersion}: expected a Node.js version such as 24`);
  const entries: [keyof StackOptions, unknown][] = [
    ['snsDelivery', sns ? { kind: sns } satisfies SnsDelivery : undefined],
    ['desiredCount', int('desiredCount', 1)], ['minTasks', int('minTasks', 1)], ['maxTasks', int('maxTasks', 1)],
    ['cpu', int('cpu', 256)], ['memoryMiB', int('memory', 512)],
    ['cpuTargetPercent', int('cpuTarget', 1)], ['packetsPerSecondPerTask', int('packetsPerSecond', 1)],
    ['dualStack', bool('dualStack')], ['elasticIps', bool('elasticIps')],
    ['natGateways', int('natGateways', 0)], ['vpcEndpoints', bool('vpcEndpoints')],
    ['route53', domain && zoneId && zoneName ? { recordName: domain, hostedZoneId: zoneId, zoneName } : undefined],
    ['kmsKeyArns', kms?.length ? kms : undefined], ['ssmTier', tier], ['agentImage', get('agentImage')],
  ];
  if (problems.length) throw new Error(`cdk context:\n  ${problems.join('\n  ')}`);
  const configFile = get('config');
  const stackName = get('stackName');
  return {
    ...(configFile ? { configFile } : {}), image, exampleApp: bool('example') ?? false,
    ...(nodeVersion ? { nodeVersion } : {}), ...(stackName ? { stackName } : {}),
    options: Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as StackOptions,
  };
}
