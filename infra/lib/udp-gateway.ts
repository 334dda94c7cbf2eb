/**
 * UdpGateway: udp-gateway on ECS Fargate behind a Network Load Balancer, one UDP listener per
 * gateway listener, configured from the gateway's own config object.
 *
 * Why Fargate: no hosts to patch, NLB UDP target groups with IP targets work with awsvpc tasks.
 * (EC2 would allow SO_REUSEPORT over all cores and larger net.core.rmem_max; see docs/deploy.md.)
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { adminPort, checkGatewayConfig, shutdownDeadlineMs, type GatewayConfigInput } from './gateway-config.js';
import { deployedConfig, snsHttpSource } from './deployed-config.js';
import { iamStatementsFromConfig } from './iam-from-config.js';
import { GatewayObservability, type GatewayObservabilityProps } from './observability.js';
import { PacketSourceWiring } from './packet-source-wiring.js';
import { acknowledge } from './nag-suppressions.js';

/** Fargate: "the max stop timeout value is 120 seconds" (ECS container definition stopTimeout). */
export const FARGATE_MAX_STOP_TIMEOUT_S = 120;
/** Seconds between SIGTERM and the end of the gateway's drain deadline, for process exit. */
const STOP_MARGIN_S = 5;
/** SSM standard parameters hold 4 KB, advanced 8 KB. */
const SSM_STANDARD_LIMIT = 4096;
const CONFIG_FILE = '/tmp/udpgw-config.json';

export type SnsDelivery =
  | { readonly kind: 'sqs' }
  /** SNS POSTs to the config's sns-http packet source through a TLS listener on the NLB. */
  | { readonly kind: 'https'; readonly certificateArn: string; readonly endpointUrl: string; readonly tlsPort?: number }
  | { readonly kind: 'none' };

export interface UdpGatewayProps {
  /** The gateway config (as read from YAML/JSON). Must not contain secrets. */
  readonly config: GatewayConfigInput;
  readonly vpc: ec2.IVpc;
  readonly image: ecs.ContainerImage;
  /** Where the tasks run (default: private subnets with egress). */
  readonly taskSubnets?: ec2.SubnetSelection;
  /** Client networks allowed to send UDP (default 0.0.0.0/0). Client IPs are preserved, so the task's SG sees them. */
  readonly clientCidrs?: string[];
  readonly desiredCount?: number;
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  readonly internetFacing?: boolean;
  /** How the SNS packet topic reaches the gateway (default: an SQS queue the gateway polls). */
  readonly snsDelivery?: SnsDelivery;
  readonly observability?: Omit<GatewayObservabilityProps, 'taskDefinition' | 'adminPort'>;
  readonly tagSecret?: secretsmanager.ISecret;
  readonly adminToken?: secretsmanager.ISecret;
}

export class UdpGateway extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly targetGroups: elbv2.NetworkTargetGroup[] = [];
  readonly packetSource?: PacketSourceWiring;
  readonly observability: GatewayObservability;
  readonly configParameter: ssm.StringParameter;
  readonly tagSecret: secretsmanager.ISecret;
  readonly adminToken: secretsmanager.ISecret;

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
    });
    const configJson = Stack.of(this).toJsonString(runConfig);
    this.configParameter = new ssm.StringParameter(this, 'Config', {
      description: 'udp-gateway config (JSON), written to a file at container start',
      stringValue: configJson,
      tier: JSON.stringify(runConfig).length > SSM_STANDARD_LIMIT - 512 ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512, memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.observability = new GatewayObservability(this, 'Observability', { ...props.observability, taskDefinition: this.taskDefinition, adminPort: admin });
    const container = this.addGatewayContainer(props.image, cfg, admin, drainS);
    const executionPolicy = this.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (executionPolicy) {
      acknowledge(executionPolicy, 'AwsSolutions-IAM5[Resource::*]', 'Only with an image built from an asset: the execution role '
        + 'needs ecr:GetAuthorizationToken, which supports no resource-level permissions (ECR docs); image pulls are scoped to the repository.');
    }
    this.grantDestinations(cfg);
    this.packetSource?.queue?.grantConsumeMessages(this.taskDefinition.taskRole);

    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', { vpc: props.vpc, description: 'udp-gateway tasks: listener UDP ports from clients, admin port from the VPC' });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }),
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      securityGroups: [this.securityGroup],
      vpcSubnets: props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', { vpc: props.vpc, internetFacing: props.internetFacing ?? true, crossZoneEnabled: true });
    acknowledge(this.loadBalancer, 'AwsSolutions-ELB2', 'NLB access logs are written for TLS listeners only; the UDP listeners of this '
      + 'load balancer produce none. Per-packet accounting is in the gateway metrics.');
    acknowledge(this.securityGroup, 'AwsSolutions-EC23', 'A public UDP service: client ports are open to the configured client '
      + 'networks (default 0.0.0.0/0, narrowed by clientCidrs / the ClientCidr parameter). Only the listener UDP ports are opened; '
      + 'the admin port is open to the VPC CIDR only.');
    this.addUdpListeners(props, cfg, container, admin, drainS);
    if (delivery.kind === 'https') this.addSnsHttpsListener(props, cfg, delivery, container, admin, drainS);
    // NLB health checks come from the load balancer nodes' private addresses inside the VPC.
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(admin), 'NLB health checks to the admin API (/readyz)');
  }

  private addGatewayContainer(image: ecs.ContainerImage, cfg: GatewayConfigInput, admin: number, drainS: number): ecs.ContainerDefinition {
    const container = this.taskDefinition.addContainer('gateway', {
      image,
      essential: true,
      // Writes the SSM value to a file for --config, then execs node (PID 1 under the init process).
      entryPoint: ['/bin/sh', '-c'],
      command: [`printf '%s' "$UDPGW_CONFIG_JSON" > ${CONFIG_FILE} && exec node dist/gateway/cli.js start --config ${CONFIG_FILE}`],
      secrets: {
        UDPGW_CONFIG_JSON: ecs.Secret.fromSsmParameter(this.configParameter),
        UDPGW_SECRET: ecs.Secret.fromSecretsManager(this.tagSecret),
        UDPGW_ADMIN_TOKEN: ecs.Secret.fromSecretsManager(this.adminToken),
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
    return container;
  }

  private targetGroup(id: string, props: UdpGatewayProps, port: number, protocol: elbv2.Protocol, admin: number, drainS: number, preserveClientIp = true): elbv2.NetworkTargetGroup {
    const tg = new elbv2.NetworkTargetGroup(this, id, {
      vpc: props.vpc, port, protocol, targetType: elbv2.TargetType.IP,
      // NLBs cannot health-check UDP: check the admin API over HTTP; /readyz turns 503 while draining.
      healthCheck: { protocol: elbv2.Protocol.HTTP, port: String(admin), path: '/readyz', interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
      deregistrationDelay: Duration.seconds(drainS),
      // UDP: enabled by default and cannot be disabled, for IP targets too (ELB docs, "Edit target group
      // attributes for your Network Load Balancer" → Client IP preservation); set explicitly all the same.
      preserveClientIp,
    });
    // Close UDP flows at the end of the deregistration delay instead of waiting for the flow idle timeout.
    tg.setAttribute('deregistration_delay.connection_termination.enabled', 'true');
    this.targetGroups.push(tg);
    return tg;
  }

  private addUdpListeners(props: UdpGatewayProps, cfg: GatewayConfigInput, container: ecs.ContainerDefinition, admin: number, drainS: number): void {
    const clients = props.clientCidrs ?? ['0.0.0.0/0'];
    for (const l of cfg.listeners) {
      const tg = this.targetGroup(`Udp${l.port}Targets`, props, l.port, elbv2.Protocol.UDP, admin, drainS);
      tg.addTarget(this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: l.port, protocol: ecs.Protocol.UDP }));
      this.loadBalancer.addListener(`Udp${l.port}`, { port: l.port, protocol: elbv2.Protocol.UDP, defaultTargetGroups: [tg] });
      for (const cidr of clients) this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udp(l.port), `listener ${l.name}`);
    }
  }

  private addSnsHttpsListener(props: UdpGatewayProps, cfg: GatewayConfigInput, d: Extract<SnsDelivery, { kind: 'https' }>,
    container: ecs.ContainerDefinition, admin: number, drainS: number): void {
    const port = snsHttpSource(cfg)!.port as number;
    // TCP to IP targets: client IP preservation off, so the source is the NLB's private address (VPC CIDR).
    const tg = this.targetGroup('SnsHttpTargets', props, port, elbv2.Protocol.TCP, admin, drainS, false);
    tg.addTarget(this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: port, protocol: ecs.Protocol.TCP }));
    this.loadBalancer.addListener('SnsHttps', {
      port: d.tlsPort ?? 443, protocol: elbv2.Protocol.TLS, certificates: [elbv2.ListenerCertificate.fromArn(d.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS, defaultTargetGroups: [tg],
    });
    this.securityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(port), 'SNS HTTPS deliveries, from the NLB TLS listener');
  }

  /** Least-privilege statements derived from the config's destinations and packet sources. */
  private grantDestinations(cfg: GatewayConfigInput): void {
    const ctx = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };
    for (const s of iamStatementsFromConfig(cfg, ctx)) {
      this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: s.actions, resources: s.resources }));
    }
  }
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
