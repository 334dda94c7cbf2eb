/**
 * The eight defects of issue 16, one block each, written against the public entry point (buildApp, as
 * bin/app.ts uses it) and the synthesised template, so each block failed before its fix.
 * Every synth here runs cdk-nag: an unacknowledged finding throws.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app.js';
import type { DestinationInput, GatewayConfigInput } from '../lib/gateway-config.js';
import { loadConfig } from '../../app/config/load.js';
// As app/cli.ts does: the built-in kinds are registered by app/builtin-kinds.ts (loaded with the config loader).

type Json = Record<string, unknown>;
const listener = (port: number, destinations: DestinationInput[] = [{ type: 'lambda', functionName: 'f' }]) =>
  ({ name: `l${port}`, port, destinations });
const cfgOf = (destinations: DestinationInput[]): GatewayConfigInput => ({ listeners: [listener(5555, destinations)] });
/** Full synth (cdk-nag on), returning the stack's template. */
function synth(config: GatewayConfigInput, extra: Json = {}): Template {
  const { app, stack } = buildApp({ config, image: 'parameter', ...extra } as Parameters<typeof buildApp>[0]);
  app.synth();
  return Template.fromStack(stack);
}
const resources = (t: Template, type: string) => Object.values(t.findResources(type)) as { Properties: Json }[];
const containers = (t: Template) => resources(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions as Json[];
const gatewayContainer = (t: Template) => containers(t).find((c) => c.Name === 'gateway')!;
const statements = (t: Template, policyName: RegExp) => resources(t, 'AWS::IAM::Policy')
  .filter((p) => policyName.test(String(p.Properties.PolicyName)))
  .flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
const actionsOf = (s: { Action: string | string[] }[]) => s.flatMap((x) => ([] as string[]).concat(x.Action));
/** The stored config, with CloudFormation references replaced by plausible values. */
function storedConfig(t: Template): Json {
  const value = resources(t, 'AWS::SSM::Parameter')[0]!.Properties.Value as unknown;
  const text = typeof value === 'string' ? value : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
    .map((p) => (typeof p === 'string' ? p : 'https://sqs.eu-west-1.amazonaws.com/111122223333/q')).join('');
  return JSON.parse(text) as Json;
}

let example: Template;
beforeAll(() => { example = synth({ listeners: [listener(5555, [{ type: 'handler', module: 'examples/echo-handler.mjs' }])] }); });

describe('1. the gateway starts from UDPGW_CONFIG_JSON, relative paths resolve against the working directory', () => {
  it('runs node directly (no shell, no config file in /tmp), as a non-root user on a read-only root filesystem', () => {
    const c = gatewayContainer(example);
    expect(JSON.stringify([c.EntryPoint, c.Command])).not.toMatch(/--config|\/tmp|\/bin\/sh/);
    expect(c.Command).toEqual(['start']);
    expect(c.WorkingDirectory).toBe('/app');
    expect(c.User).toBe('1000:1000');
    expect(c.ReadonlyRootFilesystem).toBe(true);
    for (const other of containers(example)) expect(other.ReadonlyRootFilesystem, String(other.Name)).toBe(true);
  });

  it('the gateway loads the stored config from the environment and resolves a relative handler module against its working directory', () => {
    const env = { UDPGW_CONFIG_JSON: JSON.stringify(storedConfig(example)), UDPGW_SECRET: 's'.repeat(32), UDPGW_ADMIN_TOKEN: 't'.repeat(16) };
    const argv = (gatewayContainer(example).Command as string[]).join(' ');
    const file = /--config\s+(\S+)/.exec(argv)?.[1];
    // The task's working directory is /app, the package root (examples/ and dist/ are there): run
    // from the repository root, which has the same layout, so the handler module's file exists.
    const before = process.cwd();
    process.chdir(fileURLToPath(new URL('../..', import.meta.url)));
    try {
      const cfg = loadConfig({ env, ...(file ? { file } : {}) });
      expect(cfg.baseDir).toBe(process.cwd());
      expect(cfg.listeners[0]!.destinations.find((d) => d.type === 'handler')?.options.module).toBeDefined();
    } finally { process.chdir(before); }
  });

  it('gives the gateway one writable directory (data/) and refuses file paths outside it', () => {
    expect(gatewayContainer(example).MountPoints).toEqual([{ ContainerPath: '/app/data', ReadOnly: false, SourceVolume: 'data' }]);
    expect(() => synth(cfgOf([{ type: 'file', path: '/var/log/packets.ndjson' }]))).toThrow(/read-only, write under data\//);
    expect(() => synth(cfgOf([{ type: 'file', path: 'data/packets.ndjson' }]))).not.toThrow();
  });
});

describe('2. a private ECR image can be pulled with the ImageUri parameter', () => {
  it('grants the execution role the ECR token and the image pull actions', () => {
    const exec = actionsOf(statements(example, /ExecutionRole/));
    expect(exec).toEqual(expect.arrayContaining(['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']));
  });
});

describe('3. every AWS destination kind synthesises with cdk-nag (full synth per kind)', () => {
  const kinds: DestinationInput[] = [
    { type: 'lambda', functionName: 'f' },
    { type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q' },
    { type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:111122223333:t' },
    { type: 'kinesis', streamName: 's' },
    { type: 'firehose', deliveryStreamName: 'f' },
    { type: 's3', bucket: 'b' },
    { type: 's3', bucket: 'b', prefix: 'raw/' },
    { type: 'dynamodb', tableName: 't' },
    { type: 'cloudwatch-logs', logGroupName: '/udp/in', logStreamName: 'gw' },
    { type: 'cloudwatch-logs', logGroupName: '/udp/in', logStreamName: 'gw', createIfMissing: true },
    { type: 'eventbridge' },
    { type: 'stepfunctions', stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:m' },
    { type: 'http', url: 'https://example.com/in', deadLetter: { sqsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq' } },
  ];
  it.each(kinds)('%j', (d) => { expect(() => synth(cfgOf([d]))).not.toThrow(); });

  it('`cdk synth -c config=…` exits 0 for a config with every kind at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-kinds-'));
    try {
      const file = join(dir, 'all-kinds.json');
      writeFileSync(file, JSON.stringify({ listeners: [listener(5555, kinds.map((d, i) => ({ ...d, name: `d${i}` })))] }));
      // Asynchronous: a synchronous child would block this worker's event loop for the whole synth.
      const run = promisify(execFile)('npx', ['cdk', 'synth', '-q', '-c', `config=${file}`, '-c', 'image=parameter', '-o', join(dir, 'out')],
        { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
      await expect(run).resolves.toBeDefined(); // rejects (with stderr) on a non-zero exit
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }, 180_000);
});

describe('4. more listeners than an ECS service has target groups are refused at synth', () => {
  const ports = (n: number) => Array.from({ length: n }, (_, i) => listener(6000 + i));
  it('five UDP listeners deploy, six are refused', () => {
    expect(() => synth({ listeners: ports(5) })).not.toThrow();
    expect(() => synth({ listeners: ports(6) })).toThrow(/at most 5 target groups.*at most 5 listeners/s);
  });
  it('with SNS delivered over HTTPS, four', () => {
    const cfg = { listeners: ports(5), packetSources: [{ type: 'sns-http', port: 8443 }] };
    expect(() => synth(cfg, { snsDelivery: { kind: 'https', certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/c', endpointUrl: 'https://x/sns' } }))
      .toThrow(/at most 4 listeners/);
  });
});

describe('5. the deployed egress policy forgets clients before their NLB UDP flow does', () => {
  it('stores recentClientSeconds below the 120 s UDP flow idle timeout', () => {
    const recent = (storedConfig(example).egress as { recentClientSeconds: number }).recentClientSeconds;
    expect(recent).toBeGreaterThan(0);
    expect(recent).toBeLessThan(120);
  });
  it('refuses a longer client memory', () => {
    expect(() => synth({ ...cfgOf([{ type: 'lambda', functionName: 'f' }]), egress: { recentClientSeconds: 3600 } })).toThrow(/outlives the NLB's UDP flows/);
  });
});

describe('6. metrics and alarms are per deployed stack', () => {
  it('the job dimension and the scrape job name contain the stack name', () => {
    const alarms = resources(example, 'AWS::CloudWatch::Alarm').filter((a) => a.Properties.Namespace === 'UdpGateway');
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect(JSON.stringify(a.Properties.Dimensions)).toContain('{"Ref":"AWS::StackName"}');
    const agent = containers(example).find((c) => c.Name === 'cloudwatch-agent')!;
    expect(JSON.stringify(agent.Environment)).toMatch(/job_name: udpgw-",\{"Ref":"AWS::StackName"\}/);
  });
});

describe('7. the config parameter keeps one tier and oversize configs are refused at synth', () => {
  const sized = (bytes: number): GatewayConfigInput => ({ listeners: [{ ...listener(5555), description: 'x'.repeat(bytes) }] });
  it('a 9 KB config is refused, naming the limit', () => {
    expect(() => synth(sized(9 * 1024))).toThrow(/over the SSM standard tier's 4096/);
  });
  it('the tier does not change with the config size', () => {
    const tier = (t: Template) => resources(t, 'AWS::SSM::Parameter')[0]!.Properties.Tier;
    const none = { snsDelivery: { kind: 'none' } }; // no references in the stored config: its size is exact
    expect(tier(synth(sized(100), none))).toBe('Standard');
    expect(tier(synth(sized(3800), none))).toBe('Standard'); // used to flip to Advanced above ~3.5 KB
    expect(() => synth(sized(4000), none)).toThrow(/over the SSM standard tier's 4096 bytes|over the SSM standard tier's 4096/);
  });
});

describe('8. the NLB has a security group, and only it reaches the tasks', () => {
  it('creates the NLB with a security group that holds the client rules', () => {
    const nlb = resources(example, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    expect(nlb.Properties.SecurityGroups).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/LoadBalancerSecurityGroup/), 'GroupId'] }]);
  });
  it('opens the admin port (/readyz, /metrics) to the NLB security group only, never to a CIDR', () => {
    const ingress = [...resources(example, 'AWS::EC2::SecurityGroupIngress').map((r) => r.Properties),
      ...resources(example, 'AWS::EC2::SecurityGroup').flatMap((g) => (g.Properties.SecurityGroupIngress as Json[] | undefined) ?? [])];
    const admin = ingress.filter((r) => r.FromPort === 9555);
    expect(admin).toHaveLength(1);
    expect(admin[0]!.SourceSecurityGroupId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/LoadBalancerSecurityGroup/), 'GroupId'] });
    expect(admin[0]!.CidrIp).toBeUndefined();
  });
});
