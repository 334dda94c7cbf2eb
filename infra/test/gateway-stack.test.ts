/**
 * The checked-in template: one synth (example config, example app, cdk-nag on) shared by every
 * assertion. Synth itself fails on any unacknowledged cdk-nag (AwsSolutions) finding.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Validations, type App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthTemplate, TEMPLATE_FILE } from '../scripts/synth-template.js';

let text: string;
let app: App;
let template: Template;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

beforeAll(() => {
  ({ text, app } = synthTemplate());
  template = Template.fromJSON(JSON.parse(text) as Record<string, unknown>);
});

describe('checked-in template', () => {
  it('matches a fresh synth (run `npm run synth:template` after changing infra or example-config.yaml)', () => {
    expect(readFileSync(TEMPLATE_FILE, 'utf8')).toBe(text);
  });

  it('carries no CDK metadata, version reporting or bootstrap requirement', () => {
    expect(text).not.toContain('aws:cdk:path');
    expect(text).not.toContain('CDKMetadata');
    expect(text).not.toContain('BootstrapVersion');
    expect(Object.keys(template.toJSON().Parameters as object).sort()).toEqual(
      ['AlarmEmail', 'ClientCidr', 'DesiredCount', 'ImageUri', 'MaxTasks', 'MinTasks', 'TaskCpu', 'TaskMemory']);
  });
});

describe('load balancer', () => {
  it('has one UDP listener per gateway listener', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'UDP', Port: 5555 });
  });

  it('health-checks /readyz over HTTP on the admin port, preserves client IPs and drains for the shutdown deadline', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Protocol: 'UDP', Port: 5555, TargetType: 'ip',
      HealthCheckProtocol: 'HTTP', HealthCheckPath: '/readyz', HealthCheckPort: '9555',
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '20' }, // shutdownDeadlineMs: 20000
        { Key: 'preserve_client_ip.enabled', Value: 'true' },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
      ]),
    });
  });

  it('opens exactly the listener UDP port to clients, on the load balancer security group', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('udp-gateway load balancer') } });
    const ingress = (Object.values(groups)[0] as { Properties: { SecurityGroupIngress: Record<string, unknown>[] } }).Properties.SecurityGroupIngress;
    expect(ingress.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIp])).toEqual([['udp', 5555, 5555, { Ref: 'ClientCidr' }]]);
  });

  it('lets only the load balancer security group reach the tasks: the UDP port and the admin port', () => {
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as { Properties: Record<string, unknown> }[];
    expect(rules.map((r) => [r.Properties.IpProtocol, r.Properties.FromPort, r.Properties.CidrIp, JSON.stringify(r.Properties.SourceSecurityGroupId)]).sort()).toEqual([
      ['tcp', 9555, undefined, expect.stringContaining('LoadBalancerSecurityGroup')],
      ['udp', 5555, undefined, expect.stringContaining('LoadBalancerSecurityGroup')],
    ]);
    // The tasks' and the load balancer's, plus the cluster cache's (6379 from the tasks; test/cluster-cache.test.ts).
    template.resourceCountIs('AWS::EC2::SecurityGroup', 3);
  });
});

describe('task', () => {
  const gateway = () => {
    const defs = template.findResources('AWS::ECS::TaskDefinition');
    const containers = (Object.values(defs)[0] as { Properties: { ContainerDefinitions: Record<string, unknown>[] } }).Properties.ContainerDefinitions;
    return containers.find((c) => c.Name === 'gateway') as Record<string, unknown> & { Secrets: { Name: string }[]; Command: string[] };
  };

  it('injects config, tag secret and admin token as ECS secrets; the gateway reads UDPGW_CONFIG_JSON itself', () => {
    expect(gateway().Secrets.map((s) => s.Name).sort()).toEqual(['UDPGW_ADMIN_TOKEN', 'UDPGW_CONFIG_JSON', 'UDPGW_SECRET']);
    expect(gateway().Command).toEqual(['start']);
    expect(gateway().EntryPoint).toEqual(['node', 'dist/app/cli.js']);
    // The one plain variable: the cluster cache's URL where more than one task may run (empty otherwise).
    expect((gateway().Environment as { Name: string }[]).map((e) => e.Name)).toEqual(['UDPGW_CLUSTER_REDIS']);
  });

  it('stops after the drain deadline plus a margin, within the Fargate 120 s limit', () => {
    expect(gateway().StopTimeout).toBe(25);
  });

  it('stores a config that binds 0.0.0.0 and polls the stack\'s own queue', () => {
    const params = template.findResources('AWS::SSM::Parameter');
    const value = JSON.stringify((Object.values(params)[0] as { Properties: { Value: unknown } }).Properties.Value);
    expect(value).toContain('\\"host\\":\\"0.0.0.0\\"');
    expect(value).toMatch(/\\"type\\":\\"sqs\\",\\"queueUrl\\":\\"",\{"Ref":"GatewayPacketSourceQueue/);
    expect(value).not.toMatch(/secret/i);
  });
});

describe('IAM', () => {
  const taskRoleStatements = (): Statement[] => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^GatewayTaskTaskRole') } });
    return (Object.values(policies)[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement;
  };
  const find = (action: string) => taskRoleStatements().find((s) => ([] as string[]).concat(s.Action).includes(action));

  it('scopes every task-role statement to specific resources, never "*" (alone or in a list)', () => {
    const statements = taskRoleStatements();
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      const resources = ([] as unknown[]).concat(s.Resource);
      expect(resources.length).toBeGreaterThan(0);
      expect(resources).not.toContain('*');
    }
  });

  it('grants exactly the destinations in the config', () => {
    expect(JSON.stringify(find('lambda:InvokeFunction')!.Resource)).toContain(':function:udpgw-example-counter');
    expect(JSON.stringify(find('firehose:PutRecordBatch')!.Resource)).toContain(':deliverystream/udpgw-example-archive');
    const consume = taskRoleStatements().find((st) => JSON.stringify(st.Resource).includes('GatewayPacketSourceQueue'))!;
    expect(consume.Action).toEqual(['sqs:DeleteMessage', 'sqs:ReceiveMessage']); // what the sqs packet source calls, no more
    expect(find('sns:Publish')).toBeUndefined();
    expect(find('s3:PutObject')).toBeUndefined();
  });
});

describe('packet source', () => {
  it('publishes through an SNS topic with SignatureVersion 2, exported', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { SignatureVersion: '2' });
    expect(JSON.stringify(template.toJSON().Outputs)).toContain('"Name":{"Fn::Join":["",[{"Ref":"AWS::StackName"},"-PacketTopicArn"]]}');
  });

  it('delivers to a polled queue with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
  });
});

describe('observability', () => {
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];

  it('alarms on drops and on delivery failures of this gateway', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'udpgw_drops_total', Namespace: 'UdpGateway', Statistic: 'Sum' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'udpgw_destination_failed_total', Threshold: 1 });
  });

  it('alarms when metrics stop (dead agent, no task): missing data breaches', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'udpgw_destination_queued', Statistic: 'SampleCount', ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
    });
  });

  it('alarms on unhealthy targets, running tasks below the minimum and dead-lettered packets', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/NetworkELB', MetricName: 'UnHealthyHostCount' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount', Threshold: { Ref: 'MinTasks' } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'QueueName'] } }] });
  });

  it('every alarm notifies the alarm topic, which CloudWatch can use (its own KMS key) and e-mail can subscribe to', () => {
    for (const a of alarms()) {
      expect(a.Properties.AlarmActions, String(a.Properties.AlarmDescription)).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmTopicKey'), 'Arn'] } });
    expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).toContain('cloudwatch.amazonaws.com');
    template.hasResource('AWS::SNS::Subscription', { Condition: 'HasAlarmEmail', Properties: { Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } } });
  });

  it('runs a pinned CloudWatch agent image', () => {
    expect(JSON.stringify(template.findResources('AWS::ECS::TaskDefinition'))).toMatch(/cloudwatch-agent:\d+\.\d+\.\d+b\d+"/);
  });
});

describe('autoscaling and sizing', () => {
  it('sizes the task and the service from parameters', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: { Ref: 'TaskCpu' }, Memory: { Ref: 'TaskMemory' } });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: { Ref: 'DesiredCount' } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: { Ref: 'MinTasks' }, MaxCapacity: { Ref: 'MaxTasks' } });
  });

  it('tracks CPU and packets per second per task (the gateway\'s own counter, per stack)', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: Match.objectLike({
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 60 }) });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: Match.objectLike({
      CustomizedMetricSpecification: Match.objectLike({ MetricName: 'udpgw_packets_received_total', Namespace: 'UdpGateway', Statistic: 'Average' }),
      TargetValue: 20_000 * 60 }) });
  });
});

describe('network', () => {
  it('has a NAT gateway per AZ and an S3 gateway endpoint', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });
});

describe('cdk-nag', () => {
  it('every acknowledged finding carries a reason', () => {
    const acks = app.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY));
    const rules = acks.flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(rules.map(([id]) => id.replace(/^Annotation::/, ''))).toEqual(expect.arrayContaining(['AwsSolutions-ELB2', 'AwsSolutions-EC23', 'AwsSolutions-SMG4', 'AwsSolutions-ECS2']));
    for (const [id, reason] of rules) expect(reason.length, id).toBeGreaterThan(40);
  });
});
