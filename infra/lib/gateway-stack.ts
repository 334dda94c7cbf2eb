/**
 * A deployable stack: VPC, UdpGateway (NLB + Fargate), the SNS packet topic, and optionally the
 * example app. Env-agnostic (no account/region, no lookups), so it synthesises offline.
 */
import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { GatewayConfigInput } from './gateway-config.js';
import { UdpGateway, type SnsDelivery } from './udp-gateway.js';
import { ExampleApp } from './example-app.js';

export interface GatewayStackProps extends StackProps {
  readonly config: GatewayConfigInput;
  /** 'parameter': the image URI is a template parameter (ImageUri); a directory: build the Dockerfile there at deploy. */
  readonly image: 'parameter' | { readonly directory: string };
  readonly exampleApp?: boolean;
  readonly snsDelivery?: SnsDelivery;
  readonly desiredCount?: number;
}

export class GatewayStack extends Stack {
  readonly gateway: UdpGateway;
  readonly example?: ExampleApp;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const clientCidr = new CfnParameter(this, 'ClientCidr', {
      type: 'String', default: '0.0.0.0/0', description: 'Network allowed to send UDP to the listeners (client IPs are preserved)',
      allowedPattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
    });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2, natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT, destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.TWO_WEEKS })) } },
    });
    this.gateway = new UdpGateway(this, 'Gateway', {
      config: props.config, vpc, image: this.image(props.image),
      clientCidrs: [clientCidr.valueAsString], desiredCount: props.desiredCount ?? 2,
      ...(props.snsDelivery ? { snsDelivery: props.snsDelivery } : {}),
    });
    if (props.exampleApp) {
      this.example = new ExampleApp(this, 'Example', { ...(this.gateway.packetSource ? { packetTopic: this.gateway.packetSource.topic } : {}) });
    }
    new CfnOutput(this, 'LoadBalancerDns', { value: this.gateway.loadBalancer.loadBalancerDnsName, description: 'Send UDP here (listener ports from the config)' });
    new CfnOutput(this, 'DropsAlarm', { value: this.gateway.observability.dropsAlarm.alarmName });
    new CfnOutput(this, 'DeliveryFailuresAlarm', { value: this.gateway.observability.failuresAlarm.alarmName });
  }

  private image(image: GatewayStackProps['image']): ecs.ContainerImage {
    if (image !== 'parameter') return ecs.ContainerImage.fromAsset(image.directory);
    const uri = new CfnParameter(this, 'ImageUri', { type: 'String', description: 'udp-gateway container image (built from the repository Dockerfile), e.g. <account>.dkr.ecr.<region>.amazonaws.com/udp-gateway:0.1.0' });
    return ecs.ContainerImage.fromRegistry(uri.valueAsString);
  }
}
