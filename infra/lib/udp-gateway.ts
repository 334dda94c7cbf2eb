/**
 * UdpGateway: udp-gateway on ECS Fargate behind a Network Load Balancer, one UDP listener per
 * gateway listener, configured from the gateway's own config object.
 *
 * Why Fargate: no hosts to patch, NLB UDP target groups with IP targets work with awsvpc tasks.
 * (EC2 would allow SO_REUSEPORT over all cores and larger net.core.rmem_max; see docs/deploy.md.)
 */
import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { adminPort, checkGatewayConfig, shutdownDeadlineMs, IMAGE_WORKDIR, WRITABLE_DIR, type GatewayConfigInput } from './gateway-config.js';
import { deployedConfig, headerSecrets, snsHttpSource, type HeaderSecret } from './deployed-config.js';
import { iamStatementsFromConfig } from './iam-from-config.js';
import { GatewayObservability, SCRAPE_INTERVAL, type GatewayObservabilityProps } from './observability.js';
import { PacketSourceWiring } from './packet-source-wiring.js';
import { acknowledge, acknowledgeWildcards } from './nag-suppressions.js';
import { addClusterCache, type ClusterCache, type ClusterCacheChoice } from './cluster-cache.js';
import { FARGATE_MAX_STOP_TIMEOUT_S, checkConfigSize, checkTargetGroupBudget, type SsmTier } from './limits.js';

export { FARGATE_MAX_STOP_TIMEOUT_S, checkConfigSize, checkTargetGroupBudget } from './limits.js';
/** Seconds between SIGTERM and the end of the gateway's drain deadline, for process exit. */
const STOP_MARGIN_S = 5;
/** The image's non-root user (node:*-slim images: node = 1000:1000); see the root Dockerfile. */
export const CONTAINER_USER = '1000:1000';

export type SnsDelivery =
  | { readonly kind: 'sqs' }
  /** SNS POSTs to the config's sns-http packet source through a TLS listener on the NLB. */
  | { readonly kind: 'https'; readonly certificateArn: string; readonly endpointUrl: string; readonly tlsPort?: number }
  | { readonly kind: 'none' };

export interface AutoScalingOptions {
  /** Tasks at least / at most (numbers or template parameters). */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Target average CPU utilisation of the service, percent (default 60). */
  readonly cpuTargetPercent?: number;
  /** Target packets per second received per task, from the gateway's own metrics (default 20000). */
  readonly packetsPerSecondPerTask?: number;
}

export interface UdpGatewayProps {
  /** The gateway config (as read from YAML/JSON). Must not contain secrets. */
  readonly config: GatewayConfigInput;
  readonly vpc: ec2.IVpc;
  readonly image: ecs.ContainerImage;
  /** Where the tasks run (default: private subnets with egress). */
  readonly taskSubnets?: ec2.SubnetSelection;
  /** IPv4 client networks allowed to send UDP, enforced on the load balancer's security group (default 0.0.0.0/0). */
  readonly clientCidrs?: string[];
  /** IPv6 client networks (dual-stack only; default ::/0). */
  readonly clientIpv6Cidrs?: string[];
  /** Initial task count (default 2). With autoScaling, the scaler moves it between min and max. */
  readonly desiredCount?: number;
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  readonly autoScaling?: AutoScalingOptions;
  readonly internetFacing?: boolean;
  /**
   * Dual-stack NLB for IPv6 clients: UDP target groups are IPv6 (a dual-stack NLB takes no IPv4 target group
   * behind a UDP listener), so the VPC's task subnets need IPv6 CIDRs. IPv6 clients keep their addresses;
   * IPv4 clients reach the tasks through the NLB's IPv6 source NAT prefix.
   */
  readonly dualStack?: boolean;
  /** Elastic IP allocation ids, one per subnet the NLB uses (internet-facing only): fixed addresses clients can allow-list. */
  readonly elasticIpAllocationIds?: string[];
  /** Subnets of the load balancer (default: public subnets when internet-facing, else private). */
  readonly loadBalancerSubnets?: ec2.ISubnet[];
  /** How the SNS packet topic reaches the gateway (default: an SQS queue the gateway polls). */
  readonly snsDelivery?: SnsDelivery;
  readonly observability?: Omit<GatewayObservabilityProps, 'taskDefinition' | 'adminPort'>;
  readonly tagSecret?: secretsmanager.ISecret;
  readonly adminToken?: secretsmanager.ISecret;
  /** Customer-managed KMS keys of the destinations and secrets (SQS/SNS/Kinesis/S3 SSE-KMS, Secrets Manager). */
  readonly kmsKeyArns?: string[];
  /**
   * SSM tier of the stored config (default standard, 4 KB; advanced holds 8 KB and costs per parameter-month).
   * Fixed, not derived from the config size: an advanced parameter cannot go back to standard.
   */
  readonly configParameterTier?: SsmTier;
  /**
   * The cluster's shared state (docs/cluster.md), an ElastiCache for Valkey group wired in as UDPGW_CLUSTER_REDIS.
   * Default: when more than one task can run (desiredCount or autoScaling.maxCapacity above 1, or a template
   * parameter), unless the config names its own cluster.redis. A CfnCondition: created where it holds;
   * `{ nodeType }` to size it (docs/cluster.md works the size out).
   */
  readonly clusterCache?: ClusterCacheChoice;
}

export class UdpGateway extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The tasks' security group: only the load balancer's security group may reach them. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The load balancer's security group: the front door, open to the client networks on the listener ports. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly targetGroups: elbv2.NetworkTargetGroup[] = [];
  readonly packetSource?: PacketSourceWiring;
  readonly observability: GatewayObservability;
  readonly configParameter: ssm.StringParameter;
  readonly tagSecret: secretsmanager.ISecret;
  readonly adminToken: secretsmanager.ISecret;
  readonly scaling?: ecs.ScalableTaskCount;
  readonly clusterCache?: ClusterCache;

  constructor(scope: Construct, id: string, props: UdpGatewayProps) {
    super(scope, id);
    const cfg = checkGatewayConfig(props.config, `${this.node.path} config`);
    const admin = adminPort(cfg);
    const drainS = Math.ceil(shutdownDeadlineMs(cfg) / 1000);
    if (drainS + STOP_MARGIN_S > FARGATE_MAX_STOP_TIMEOUT_S) {
      throw new Error(`shutdownDeadlineMs ${shutdownDeadlineMs(cfg)} is too long for Fargate: stopTimeout is at most ${FARGATE_MAX_STOP_TIMEOUT_S} s (use ≤ ${(FARGATE_MAX_STOP_TIMEOUT_S - STOP_MARGIN_S) * 1000})`);
    }
    const delivery = props.snsDelivery ?? { kind: 'sqs' };
    if (delivery.kind === 'https' && !snsHttpSource(cfg)) throw new Error('snsDelivery https needs an sns-http packet source (with its port) in the config');
    checkTargetGroupBudget(cfg.listeners.length, delivery.kind === 'https');
    if (props.elasticIpAllocationIds && props.internetFacing === false) throw new Error('Elastic IPs need an internet-facing load balancer');

    this.tagSecret = props.tagSecret ?? generatedSecret(this, 'TagSecret', 'udp-gateway tag signing secret (UDPGW_SECRET)',
      'Rotating the tag secret must keep the old value as previousSecrets for one reply window, or replies to in-flight tags are '
      + 'refused; a single-value Secrets Manager rotation cannot do that. Rotate by the documented procedure (docs/deploy.md).');
    this.adminToken = props.adminToken ?? generatedSecret(this, 'AdminToken', 'udp-gateway admin API token (UDPGW_ADMIN_TOKEN)',
      'Tasks read the admin token only at start, so an automatic rotation would desynchronise running tasks from the secret; '
      + 'rotate by updating the secret and forcing a new deployment (docs/deploy.md).');
    if (delivery.kind !== 'none') {
      this.packetSource = new PacketSourceWiring(this, 'PacketSource', delivery.kind === 'sqs' ? { kind: 'sqs' } : { kind: 'https', endpointUrl: delivery.endpointUrl });
    }
    const runConfig = deployedConfig(cfg, {
      ...(this.packetSource?.queue ? { pollQueueUrl: this.packetSource.queue.queueUrl } : {}),
      ...(delivery.kind === 'https' && this.packetSource ? { snsTopicArn: this.packetSource.topic.topicArn } : {}),
      dualStack: props.dualStack ?? false,
    });
    const tier = props.configParameterTier ?? 'standard';
    checkConfigSize(runConfig, tier);
    this.configParameter = new ssm.StringParameter(this, 'Config', {
      description: 'udp-gateway config (JSON), read by the gateway from UDPGW_CONFIG_JSON at start',
      stringValue: Stack.of(this).toJsonString(runConfig),
      tier: tier === 'advanced' ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512, memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.observability = new GatewayObservability(this, 'Observability', { ...props.observability, taskDefinition: this.taskDefinition, adminPort: admin });
    const secretHeaders = headerSecrets(cfg);
    const container = this.addGatewayContainer(props.image, cfg, admin, drainS, secretHeaders);
    const executionPolicy = this.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (executionPolicy) {
      acknowledge(executionPolicy, 'AwsSolutions-IAM5[Resource::*]', 'Only for pulling a private ECR image: the execution role '
        + 'needs ecr:GetAuthorizationToken, which supports no resource-level permissions (ECR docs); image pulls are scoped to repositories.');
    }
    this.grantDestinations(cfg);
    this.grantKms(props.kmsKeyArns ?? [], secretHeaders.length > 0);
    if (this.packetSource?.queue) {
      // The sqs packet source calls ReceiveMessage and DeleteMessageBatch (authorised by sqs:DeleteMessage), nothing else.
      this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: [this.packetSource.queue.queueArn],
      }));
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      // Out-of-band sends to IPv6 clients are new outbound packets (replies ride the stateful inbound flow).
      ...(props.dualStack ? { allowAllIpv6Outbound: true } : {}),
      vpc: props.vpc, description: 'udp-gateway tasks: listener, health-check and SNS ports from the load balancer security group only',
    });
    this.clusterCache = addClusterCache(this, {
      ...props, clients: this.securityGroup, container, configHasCluster: (cfg as { cluster?: unknown }).cluster !== undefined,
      subnets: props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc, allowAllOutbound: false, description: 'udp-gateway load balancer: listener ports from the client networks',
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }),
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      securityGroups: [this.securityGroup],
      vpcSubnets: props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });
    const internetFacing = props.internetFacing ?? true;
    const lbSubnets = props.loadBalancerSubnets ?? props.vpc.selectSubnets({ subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets;
    if (props.elasticIpAllocationIds && props.elasticIpAllocationIds.length !== lbSubnets.length) {
      throw new Error(`one Elastic IP per load balancer subnet: ${lbSubnets.length} subnets, ${props.elasticIpAllocationIds.length} allocations`);
    }
    const dualStack = props.dualStack ?? false;
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc: props.vpc, internetFacing, crossZoneEnabled: true,
      // Created with a security group: one cannot be added to an NLB created without.
      securityGroups: [this.loadBalancerSecurityGroup],
      ...(dualStack ? { ipAddressType: elbv2.IpAddressType.DUAL_STACK, enablePrefixForIpv6SourceNat: true } : {}),
      ...(props.elasticIpAllocationIds || props.loadBalancerSubnets
        ? { subnetMappings: lbSubnets.map((subnet, i) => ({ subnet, ...(props.elasticIpAllocationIds ? { allocationId: props.elasticIpAllocationIds[i]! } : {}) })) }
        : { vpcSubnets: { subnets: lbSubnets } }),
    });
    acknowledge(this.loadBalancer, 'AwsSolutions-ELB2', 'NLB access logs are written for TLS listeners only; the UDP listeners of this '
      + 'load balancer produce none. Per-packet accounting is in the gateway metrics.');
    acknowledge(this.loadBalancerSecurityGroup, 'AwsSolutions-EC23', 'A public UDP service: the listener ports are open to the configured '
      + 'client networks (default 0.0.0.0/0 and ::/0, narrowed by clientCidrs / the ClientCidr parameter). Only the listener ports are '
      + 'opened; the tasks accept traffic from this security group alone.');
    this.addUdpListeners(props, cfg, container, admin, drainS, dualStack);
    if (delivery.kind === 'https') this.addSnsHttpsListener(props, cfg, delivery, container, admin, drainS);
    // NLB health checks come from the load balancer, so the admin port (/readyz, /metrics) is open to its security group only.
    this.allowFromLoadBalancer(ec2.Port.tcp(admin), 'NLB health checks to the admin API (/readyz)');
    if (props.autoScaling) this.scaling = this.addAutoScaling(props.autoScaling);
    this.addServiceAlarms(props.autoScaling?.minCapacity ?? props.desiredCount ?? 2);
  }

  private addGatewayContainer(image: ecs.ContainerImage, cfg: GatewayConfigInput, admin: number, drainS: number, secretHeaders: HeaderSecret[]): ecs.ContainerDefinition {
    const container = this.taskDefinition.addContainer('gateway', {
      image,
      essential: true,
      // The gateway reads UDPGW_CONFIG_JSON itself when no --config is given, and resolves relative paths
      // (handler modules, data/ files) against its working directory: no shell, no file in /tmp.
      entryPoint: ['node', 'dist/app/cli.js'],
      command: ['start'],
      workingDirectory: IMAGE_WORKDIR,
      user: CONTAINER_USER,
      readonlyRootFilesystem: true,
      secrets: {
        UDPGW_CONFIG_JSON: ecs.Secret.fromSsmParameter(this.configParameter),
        UDPGW_SECRET: ecs.Secret.fromSecretsManager(this.tagSecret),
        UDPGW_ADMIN_TOKEN: ecs.Secret.fromSecretsManager(this.adminToken),
        ...Object.fromEntries(secretHeaders.map((h, i) => [h.env, ecs.Secret.fromSecretsManager(importSecret(this, `HeaderSecret${i}`, h.secretsManager), h.jsonKey)])),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.observability.logGroup, streamPrefix: 'gateway' }),
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      stopTimeout: Duration.seconds(drainS + STOP_MARGIN_S),
      portMappings: [
        ...cfg.listeners.map((l) => ({ containerPort: l.port, protocol: ecs.Protocol.UDP, name: `udp-${l.port}` })),
        { containerPort: admin, protocol: ecs.Protocol.TCP, name: 'admin' },
        ...extraTcpPorts(cfg).map((p) => ({ containerPort: p, protocol: ecs.Protocol.TCP, name: `tcp-${p}` })),
      ],
    });
    // The one writable place (file destinations, file dead letters): task storage, owned by the image's user
    // because the Dockerfile declares VOLUME /app/data on a directory it chowns (ECS bind mounts copy it).
    this.taskDefinition.addVolume({ name: 'data' });
    container.addMountPoints({ sourceVolume: 'data', containerPath: WRITABLE_DIR, readOnly: false });
    return container;
  }

  private allowFromLoadBalancer(port: ec2.Port, description: string): void {
    this.securityGroup.addIngressRule(this.loadBalancerSecurityGroup, port, description);
    this.loadBalancerSecurityGroup.addEgressRule(this.securityGroup, port, description);
  }

  private targetGroup(id: string, props: UdpGatewayProps, port: number, protocol: elbv2.Protocol, admin: number, drainS: number,
    opts: { preserveClientIp?: boolean; ipv6?: boolean } = {}): elbv2.NetworkTargetGroup {
    const tg = new elbv2.NetworkTargetGroup(this, id, {
      vpc: props.vpc, port, protocol, targetType: elbv2.TargetType.IP,
      ...(opts.ipv6 ? { ipAddressType: elbv2.TargetGroupIpAddressType.IPV6 } : {}),
      // NLBs cannot health-check UDP: check the admin API over HTTP; /readyz turns 503 while draining.
      healthCheck: { protocol: elbv2.Protocol.HTTP, port: String(admin), path: '/readyz', interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
      deregistrationDelay: Duration.seconds(drainS),
      // UDP: enabled by default and cannot be disabled, for IP targets too (ELB docs, "Edit target group
      // attributes for your Network Load Balancer" → Client IP preservation); set explicitly all the same.
      preserveClientIp: opts.preserveClientIp ?? true,
    });
    // Close UDP flows at the end of the deregistration delay instead of waiting for the flow idle timeout.
    tg.setAttribute('deregistration_delay.connection_termination.enabled', 'true');
    this.targetGroups.push(tg);
    return tg;
  }

  private addUdpListeners(props: UdpGatewayProps, cfg: GatewayConfigInput, container: ecs.ContainerDefinition, admin: number, drainS: number, dualStack: boolean): void {
    const v4 = props.clientCidrs ?? ['0.0.0.0/0'];
    const v6 = dualStack ? (props.clientIpv6Cidrs ?? ['::/0']) : [];
    for (const l of cfg.listeners) {
      const tg = this.targetGroup(`Udp${l.port}Targets`, props, l.port, elbv2.Protocol.UDP, admin, drainS, { ipv6: dualStack });
      tg.addTarget(this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: l.port, protocol: ecs.Protocol.UDP }));
      this.loadBalancer.addListener(`Udp${l.port}`, { port: l.port, protocol: elbv2.Protocol.UDP, defaultTargetGroups: [tg] });
      for (const cidr of v4) this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udp(l.port), `listener ${l.name}`);
      for (const cidr of v6) this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.ipv6(cidr), ec2.Port.udp(l.port), `listener ${l.name} (IPv6)`);
      this.allowFromLoadBalancer(ec2.Port.udp(l.port), `listener ${l.name}, through the load balancer`);
    }
  }

  private addSnsHttpsListener(props: UdpGatewayProps, cfg: GatewayConfigInput, d: Extract<SnsDelivery, { kind: 'https' }>,
    container: ecs.ContainerDefinition, admin: number, drainS: number): void {
    const port = snsHttpSource(cfg)!.port as number;
    const tlsPort = d.tlsPort ?? 443;
    // TCP to IP targets: client IP preservation off, so the source is the NLB's private address.
    const tg = this.targetGroup('SnsHttpTargets', props, port, elbv2.Protocol.TCP, admin, drainS, { preserveClientIp: false });
    tg.addTarget(this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: port, protocol: ecs.Protocol.TCP }));
    this.loadBalancer.addListener('SnsHttps', {
      port: tlsPort, protocol: elbv2.Protocol.TLS, certificates: [elbv2.ListenerCertificate.fromArn(d.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS, defaultTargetGroups: [tg],
    });
    // SNS delivers from its public endpoints (no published range): the TLS port is open; the gateway verifies signatures.
    this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(tlsPort), 'SNS HTTPS deliveries (signatures verified by the gateway)');
    this.allowFromLoadBalancer(ec2.Port.tcp(port), 'SNS HTTPS deliveries, from the NLB TLS listener');
  }

  /** Application Auto Scaling: target tracking on CPU and on packets per second per task (the gateway's own counter). */
  private addAutoScaling(o: AutoScalingOptions): ecs.ScalableTaskCount {
    const scaling = this.service.autoScaleTaskCount({ minCapacity: o.minCapacity, maxCapacity: o.maxCapacity });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: o.cpuTargetPercent ?? 60 });
    const pps = o.packetsPerSecondPerTask ?? 20_000;
    scaling.scaleToTrackCustomMetric('PacketsPerTask', {
      // Average of per-scrape deltas = packets per task per scrape interval.
      metric: this.observability.packetsPerTaskMetric(),
      targetValue: Token.isUnresolved(pps) ? pps : pps * SCRAPE_INTERVAL.toSeconds(),
    });
    return scaling;
  }

  /** Unhealthy targets, running tasks below the minimum, dead-lettered out-of-band packets. */
  private addServiceAlarms(minTasks: number): void {
    const o = this.observability;
    this.targetGroups.forEach((tg, i) => o.alarm(`UnhealthyHosts${i}`, tg.metrics.unHealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }), 1,
      cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, `unhealthy targets in ${tg.node.id} (HTTP /readyz failing) for 3 minutes`,
      cloudwatch.TreatMissingData.NOT_BREACHING, 3));
    const running = new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', statistic: 'Minimum', period: Duration.minutes(1),
      dimensionsMap: { ClusterName: this.service.cluster.clusterName, ServiceName: this.service.serviceName },
    });
    o.alarm('RunningTasks', running, minTasks, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      'fewer running gateway tasks than the minimum for 5 minutes (Container Insights RunningTaskCount)', cloudwatch.TreatMissingData.BREACHING, 5);
    const dlq = this.packetSource?.deadLetterQueue;
    if (dlq) {
      o.alarm('DeadLetters', dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }), 1,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        'out-of-band packets moved to the dead-letter queue (malformed, or refused by the egress policy: client unknown or its NLB flow expired)');
    }
  }

  /** Least-privilege statements derived from the config's destinations and packet sources. */
  private grantDestinations(cfg: GatewayConfigInput): void {
    const ctx = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };
    const wildcards: string[] = [];
    for (const s of iamStatementsFromConfig(cfg, ctx)) {
      this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: s.actions, resources: s.resources }));
      wildcards.push(...s.resources.filter((r) => r.includes('*')));
    }
    if (wildcards.length) {
      const policy = this.taskDefinition.taskRole.node.tryFindChild('DefaultPolicy')!;
      acknowledgeWildcards(policy, wildcards.map((r) => `Resource::${nagResource(Stack.of(this), r)}`),
        'Derived from the config, each scoped to one named resource: s3:PutObject needs the object key pattern <bucket>/<prefix>* '
        + '(object keys are generated per batch), and logs:CreateLogStream (cloudwatch-logs createIfMissing) is authorised on '
        + 'log-group:<name>:* because the stream does not exist yet.');
    }
  }

  /** Customer-managed keys: data keys for sends to SSE-KMS destinations, decrypt for encrypted queues and secrets. */
  private grantKms(keyArns: string[], secretsNeedKeys: boolean): void {
    if (!keyArns.length) return;
    this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: keyArns }));
    if (secretsNeedKeys) {
      this.taskDefinition.obtainExecutionRole().addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'], resources: keyArns,
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
      }));
    }
  }
}

/** The resource string cdk-nag reports for a statement resource (tokens as <AWS::Partition> etc.). */
function nagResource(stack: Stack, resource: string): string {
  const resolved = stack.resolve(resource) as unknown;
  if (typeof resolved === 'string') return resolved;
  const parts = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : `<${(p as { Ref: string }).Ref}>`)).join('');
}

function importSecret(scope: Construct, id: string, ref: string): secretsmanager.ISecret {
  if (!ref.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(scope, id, ref);
  // A complete ARN ends in the 6-character suffix Secrets Manager appends to the name.
  return /-[A-Za-z0-9]{6}$/.test(ref) ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, ref) : secretsmanager.Secret.fromSecretPartialArn(scope, id, ref);
}

function generatedSecret(scope: Construct, id: string, description: string, noRotationReason: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, { description, generateSecretString: { passwordLength: 48, excludePunctuation: true } });
  acknowledge(secret, 'AwsSolutions-SMG4', noRotationReason);
  return secret;
}

/** TCP ports of packet sources that listen (sns-http): mapped so the NLB TLS listener can reach them. */
function extraTcpPorts(cfg: GatewayConfigInput): number[] {
  const p = snsHttpSource(cfg)?.port;
  return typeof p === 'number' && p > 0 ? [p] : [];
}
