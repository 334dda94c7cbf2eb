/** UdpGateway construct variants: several listeners, HTTPS SNS delivery, config checks, nag enforcement. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { UdpGateway, type UdpGatewayProps } from '../lib/udp-gateway.js';
import { buildApp } from '../lib/app.js';
import type { GatewayConfigInput } from '../lib/gateway-config.js';

const twoListeners: GatewayConfigInput = {
  shutdownDeadlineMs: 3_000,
  admin: { port: 8080 },
  listeners: [
    { name: 'statsd', port: 8125, destinations: [{ type: 'kinesis', streamName: 'metrics' }] },
    { name: 'coap', port: 5683, destinations: [{ type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/coap' }] },
  ],
  packetSources: [{ type: 'sns-http', port: 8443 }],
};

function gatewayStack(props: Partial<UdpGatewayProps> & { config: GatewayConfigInput }): { stack: Stack; gateway: UdpGateway } {
  const stack = new Stack(new App(), 'T');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const gateway = new UdpGateway(stack, 'Gw', { vpc, image: ecs.ContainerImage.fromRegistry('example/udp-gateway:test'), ...props });
  return { stack, gateway };
}

describe('two listeners with HTTPS SNS delivery', () => {
  let t: Template;
  beforeAll(() => {
    t = Template.fromStack(gatewayStack({
      config: twoListeners, clientCidrs: ['198.51.100.0/24'],
      snsDelivery: { kind: 'https', certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc', endpointUrl: 'https://gw.example.com/sns' },
    }).stack);
  });

  it('creates a UDP listener and target group per gateway listener, plus a TLS listener for SNS', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'UDP', Port: 8125 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'UDP', Port: 5683 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'TLS', Port: 443 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'UDP', Port: 5683, HealthCheckPort: '8080', HealthCheckPath: '/readyz' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Protocol: 'TCP', Port: 8443, TargetGroupAttributes: Match.arrayWith([{ Key: 'preserve_client_ip.enabled', Value: 'false' }]),
    });
  });

  it('opens each UDP port to the client CIDR only, on the load balancer security group', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('load balancer'),
      SecurityGroupIngress: Match.arrayWith([
        Match.objectLike({ IpProtocol: 'udp', FromPort: 8125, ToPort: 8125, CidrIp: '198.51.100.0/24' }),
        Match.objectLike({ IpProtocol: 'udp', FromPort: 5683, ToPort: 5683, CidrIp: '198.51.100.0/24' }),
      ]),
    });
  });

  it('subscribes the HTTPS endpoint and allows the topic on the sns-http source', () => {
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://gw.example.com/sns' });
    t.resourceCountIs('AWS::SQS::Queue', 0);
    const param = JSON.stringify(Object.values(t.findResources('AWS::SSM::Parameter'))[0]);
    expect(param).toMatch(/sns-http.*topicArns.*Ref.*GwPacketSourceTopic/);
  });

  it('derives IAM from the config (kinesis stream, SQS queue) and drains 3 s', () => {
    const json = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(json).toContain(':stream/metrics');
    expect(json).toContain(':sqs:eu-west-1:111122223333:coap'); // region and account from the queue URL
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'gateway', StopTimeout: 8 })]) });
  });
});

describe('config checks', () => {
  it('refuses secrets in the config, port 0, and a drain longer than Fargate allows', () => {
    const base = twoListeners.listeners[0]!;
    expect(() => gatewayStack({ config: { listeners: [base], secret: 'x'.repeat(16) } })).toThrow(/"secret" must not be in a deployed config/);
    expect(() => gatewayStack({ config: { listeners: [{ ...base, port: 0 }] } })).toThrow(/port must be 1-65535/);
    expect(() => gatewayStack({ config: { listeners: [base], shutdownDeadlineMs: 200_000 } })).toThrow(/stopTimeout is at most 120 s/);
  });

  it('needs an sns-http source for HTTPS delivery, and creates no topic with delivery none', () => {
    const cfg = { listeners: [twoListeners.listeners[0]!] };
    expect(() => gatewayStack({ config: cfg, snsDelivery: { kind: 'https', certificateArn: 'arn:x', endpointUrl: 'https://x' } })).toThrow(/sns-http/);
    expect(Template.fromStack(gatewayStack({ config: cfg, snsDelivery: { kind: 'none' } }).stack)
      .findResources('AWS::SNS::Topic', { Properties: { SignatureVersion: '2' } })).toEqual({});
  });
});

describe('cdk-nag enforcement', () => {
  it('fails synthesis on a finding nobody acknowledged', () => {
    const { app, stack } = buildApp({ config: { listeners: [twoListeners.listeners[0]!] } });
    new sqs.Queue(stack, 'UnencryptedNoDlq', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });

  it('passes with an image built from a Dockerfile asset (ECR auth is the only wildcard)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udpgw-image-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    try {
      const { app, stack } = buildApp({ config: { listeners: [twoListeners.listeners[0]!] }, image: { directory: dir } });
      expect(() => app.synth()).not.toThrow();
      const exec = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ExecutionRole') } }));
      expect(exec).toContain('ecr:GetAuthorizationToken');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('passes a bare construct in a stack with the AwsSolutions pack', () => {
    const { stack } = gatewayStack({ config: { listeners: [twoListeners.listeners[0]!] } });
    const app = stack.node.root as App;
    Validations.of(stack.node.findChild('Vpc')).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture VPC, not part of the construct under test' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
