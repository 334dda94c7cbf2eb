/**
 * A deployable stack: VPC, UdpGateway (NLB + Fargate, autoscaled), the SNS packet topic, alarms with
 * a notification topic, and optionally Elastic IPs, a Route 53 alias and the example app.
 * Env-agnostic (no account/region, no lookups), so it synthesises offline. Sizes are template
 * parameters whose defaults come from the options (cdk context), so the checked-in template can be
 * sized at deploy time without CDK.
 */
import { Aws, CfnCondition, CfnOutput, CfnParameter, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { GatewayConfigInput } from './gateway-config.js';
import type { SsmTier } from './limits.js';
import { UdpGateway, type SnsDelivery } from './udp-gateway.js';
import { ExampleApp } from './example-app.js';
import { createAlarmTopic } from './observability.js';
import { acknowledge } from './nag-suppressions.js';

/** Fargate task sizes (vCPU units); memory must match the CPU (ECS docs, "Task CPU and memory"). */
export const FARGATE_CPU_UNITS = ['256', '512', '1024', '2048', '4096', '8192', '16384'];

export interface GatewayStackProps extends StackProps {
  readonly config: GatewayConfigInput;
  /** 'parameter': the image URI is a template parameter (ImageUri); a directory: build the Dockerfile there at deploy. */
  readonly image: 'parameter' | { readonly directory: string; readonly buildArgs?: Record<string, string> };
  readonly exampleApp?: boolean;
  readonly snsDelivery?: SnsDelivery;
  /** Defaults of the DesiredCount / MinTasks / MaxTasks / TaskCpu / TaskMemory parameters. */
  readonly desiredCount?: number;
  readonly minTasks?: number;
  readonly maxTasks?: number;
  readonly cpu?: number;
  readonly memoryMiB?: number;
  /** Autoscaling targets: average CPU percent, packets per second per task. */
  readonly cpuTargetPercent?: number;
  readonly packetsPerSecondPerTask?: number;
  /** Dual-stack VPC and NLB for IPv6 clients. */
  readonly dualStack?: boolean;
  /** One Elastic IP per AZ on the NLB (fixed public addresses). */
  readonly elasticIps?: boolean;
  /** NAT gateways (default one per AZ; 0 needs vpcEndpoints and an agent image in private ECR). */
  readonly natGateways?: number;
  /** Interface endpoints for ECR, CloudWatch Logs, SSM, Secrets Manager, SQS, SNS and CloudWatch (the S3 gateway endpoint is always there). */
  readonly vpcEndpoints?: boolean;
  /** Route 53 alias to the NLB: record name in a hosted zone of this account. */
  readonly route53?: { readonly hostedZoneId: string; readonly zoneName: string; readonly recordName: string };
  readonly kmsKeyArns?: string[];
  readonly ssmTier?: SsmTier;
  readonly agentImage?: string;
}

export const AZS = 2;

export class GatewayStack extends Stack {
  readonly gateway: UdpGateway;
  readonly vpc: ec2.Vpc;
  readonly example?: ExampleApp;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const dualStack = props.dualStack ?? false;
    const clientCidr = new CfnParameter(this, 'ClientCidr', {
      type: 'String', default: '0.0.0.0/0', description: 'IPv4 network allowed to send UDP to the listeners (enforced on the load balancer security group)',
      allowedPattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
    });
    const clientIpv6Cidr = dualStack ? new CfnParameter(this, 'ClientIpv6Cidr', {
      type: 'String', default: '::/0', description: 'IPv6 network allowed to send UDP to the listeners', allowedPattern: '^[0-9a-fA-F:]+/\\d{1,3}$',
    }) : undefined;
    const num = (pid: string, def: number, description: string, extra: Partial<{ minValue: number; maxValue: number; allowedValues: string[] }> = {}) =>
      new CfnParameter(this, pid, { type: 'Number', default: def, description, ...extra }).valueAsNumber;
    const desiredCount = num('DesiredCount', props.desiredCount ?? 2, 'Tasks at creation (autoscaling moves the count between MinTasks and MaxTasks afterwards)', { minValue: 1 });
    const minTasks = num('MinTasks', props.minTasks ?? 2, 'Autoscaling minimum (2 or more keeps one task per AZ)', { minValue: 1 });
    const maxTasks = num('MaxTasks', props.maxTasks ?? 10, 'Autoscaling maximum', { minValue: 1 });
    const cpu = num('TaskCpu', props.cpu ?? 512, 'Fargate task CPU units (1024 = 1 vCPU)', { allowedValues: FARGATE_CPU_UNITS });
    const memory = num('TaskMemory', props.memoryMiB ?? 1024, 'Fargate task memory (MiB), valid for TaskCpu (ECS docs, "Task CPU and memory")', { minValue: 512 });
    const alarmEmail = new CfnParameter(this, 'AlarmEmail', { type: 'String', default: '', description: 'Optional: e-mail address subscribed to the alarm topic (confirm the subscription mail)' });

    // More than one task may run: the tasks share flow ownership through the cluster cache (docs/cluster.md).
    const multiTask = new CfnCondition(this, 'MultiTask', { expression: Fn.conditionNot(Fn.conditionAnd(
      Fn.conditionEquals(Fn.ref('DesiredCount'), '1'), Fn.conditionEquals(Fn.ref('MaxTasks'), '1'))) });
    const natGateways = props.natGateways ?? AZS;
    if (natGateways === 0 && !props.vpcEndpoints) throw new Error('natGateways=0 needs vpcEndpoints=true (the tasks pull images and read secrets through them)');
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: AZS, natGateways,
      ...(dualStack ? { ipProtocol: ec2.IpProtocol.DUAL_STACK } : {}),
      // The flag's custom resource would need a Lambda asset, and this template deploys without bootstrap;
      // the default security group is unused (every resource has its own).
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'tasks', subnetType: natGateways === 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT, destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.TWO_WEEKS })) } },
      // ECR image layers come from S3: the gateway endpoint keeps them off the NAT gateways, at no charge.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const taskSubnets = { subnetType: natGateways === 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS };

    const eips = props.elasticIps
      ? this.vpc.publicSubnets.map((_, i) => new ec2.CfnEIP(this, `NlbAddress${i}`, { domain: 'vpc', tags: [{ key: 'Name', value: `udp-gateway NLB ${i}` }] }))
      : undefined;
    const alarmTopic = createAlarmTopic(this, 'AlarmTopic');
    const hasEmail = new CfnCondition(this, 'HasAlarmEmail', { expression: Fn.conditionNot(Fn.conditionEquals(alarmEmail.valueAsString, '')) });
    new sns.CfnSubscription(this, 'AlarmEmailSubscription', { topicArn: alarmTopic.topicArn, protocol: 'email', endpoint: alarmEmail.valueAsString })
      .cfnOptions.condition = hasEmail;

    this.gateway = new UdpGateway(this, 'Gateway', {
      config: props.config, vpc: this.vpc, image: this.image(props.image), taskSubnets,
      clientCidrs: [clientCidr.valueAsString], ...(clientIpv6Cidr ? { clientIpv6Cidrs: [clientIpv6Cidr.valueAsString] } : {}),
      desiredCount, cpu, memoryLimitMiB: memory, clusterCache: multiTask,
      autoScaling: { minCapacity: minTasks, maxCapacity: maxTasks,
        ...(props.cpuTargetPercent ? { cpuTargetPercent: props.cpuTargetPercent } : {}),
        ...(props.packetsPerSecondPerTask ? { packetsPerSecondPerTask: props.packetsPerSecondPerTask } : {}) },
      dualStack,
      ...(eips ? { elasticIpAllocationIds: eips.map((e) => e.attrAllocationId) } : {}),
      ...(props.snsDelivery ? { snsDelivery: props.snsDelivery } : {}),
      ...(props.kmsKeyArns?.length ? { kmsKeyArns: props.kmsKeyArns } : {}),
      ...(props.ssmTier ? { configParameterTier: props.ssmTier } : {}),
      observability: { alarmTopic, ...(props.agentImage ? { agentImage: props.agentImage } : {}) },
    });
    if (props.image === 'parameter') this.grantEcrPull();
    if (props.vpcEndpoints) this.addInterfaceEndpoints(taskSubnets);
    if (props.exampleApp) {
      this.example = new ExampleApp(this, 'Example', { ...(this.gateway.packetSource ? { packetTopic: this.gateway.packetSource.topic } : {}) });
    }
    const nlb = this.gateway.loadBalancer;
    new CfnOutput(this, 'LoadBalancerDns', { value: nlb.loadBalancerDnsName, description: 'Send UDP here (listener ports from the config)' });
    if (eips) new CfnOutput(this, 'LoadBalancerAddresses', { value: Fn.join(',', eips.map((e) => e.ref)), description: 'The NLB\'s fixed public IPv4 addresses, one per AZ' });
    if (props.route53) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.route53.hostedZoneId, zoneName: props.route53.zoneName });
      const target = route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(nlb));
      new route53.ARecord(this, 'AliasA', { zone, recordName: props.route53.recordName, target });
      if (dualStack) new route53.AaaaRecord(this, 'AliasAaaa', { zone, recordName: props.route53.recordName, target });
      new CfnOutput(this, 'GatewayName', { value: `${props.route53.recordName.replace(/\.$/, '')}`, description: 'DNS name of the gateway (alias to the NLB)' });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn, description: 'Every alarm notifies this topic (subscribe with AlarmEmail or your own subscription)' });
    new CfnOutput(this, 'DropsAlarm', { value: this.gateway.observability.dropsAlarm.alarmName });
    new CfnOutput(this, 'DeliveryFailuresAlarm', { value: this.gateway.observability.failuresAlarm.alarmName });
    new CfnOutput(this, 'MetricsJob', { value: this.gateway.observability.job, description: 'The job dimension of this gateway\'s metrics (namespace UdpGateway)' });
  }

  private image(image: GatewayStackProps['image']): ecs.ContainerImage {
    if (image !== 'parameter') return ecs.ContainerImage.fromAsset(image.directory, image.buildArgs ? { buildArgs: image.buildArgs } : {});
    const uri = new CfnParameter(this, 'ImageUri', { type: 'String', description: 'udp-gateway container image (built from the repository Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/udp-gateway:0.1.0' });
    return ecs.ContainerImage.fromRegistry(uri.valueAsString);
  }

  /**
   * The image URI is a parameter, so the repository is unknown at synth: allow pulls from the ECR repositories of
   * this account and region (a repository elsewhere needs its own repository policy and this role's ARN there).
   */
  private grantEcrPull(): void {
    const role = this.gateway.taskDefinition.obtainExecutionRole();
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    const repos = `arn:${Aws.PARTITION}:ecr:${Aws.REGION}:${Aws.ACCOUNT_ID}:repository/*`;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], resources: [repos] }));
    acknowledge(role.node.tryFindChild('DefaultPolicy')!, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]`,
      'The image is a template parameter (ImageUri), so its repository is not known at synth: pulls are allowed from the ECR '
      + 'repositories of this account and region only, read-only (BatchGetImage, GetDownloadUrlForLayer, BatchCheckLayerAvailability).');
  }

  private addInterfaceEndpoints(subnets: ec2.SubnetSelection): void {
    const s = ec2.InterfaceVpcEndpointAwsService;
    const services: [string, ec2.InterfaceVpcEndpointAwsService][] = [
      ['EcrApi', s.ECR], ['EcrDocker', s.ECR_DOCKER], ['Logs', s.CLOUDWATCH_LOGS], ['Ssm', s.SSM],
      ['SecretsManager', s.SECRETS_MANAGER], ['Sqs', s.SQS], ['Sns', s.SNS], ['Monitoring', s.CLOUDWATCH_MONITORING],
    ];
    // HTTPS from the gateway tasks only (the default would open 443 to the whole VPC CIDR).
    const sg = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', { vpc: this.vpc, allowAllOutbound: false, description: 'udp-gateway VPC interface endpoints: HTTPS from the gateway tasks' });
    sg.addIngressRule(this.gateway.securityGroup, ec2.Port.tcp(443), 'AWS API calls of the gateway tasks');
    for (const [id, service] of services) this.vpc.addInterfaceEndpoint(id, { service, subnets, privateDnsEnabled: true, securityGroups: [sg], open: false });
  }
}
