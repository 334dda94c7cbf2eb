/**
 * The cluster cache (issue 11): more than one task → an ElastiCache for Valkey group in the VPC, 6379
 * from the tasks only, its URL in the task's environment (UDPGW_CLUSTER_REDIS); one task → none.
 * Synths run cdk-nag (an unacknowledged finding throws).
 */
import { describe, expect, it } from 'vitest';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { UdpGateway, type UdpGatewayProps } from '../lib/udp-gateway.js';
import { buildApp } from '../lib/app.js';
import type { GatewayConfigInput } from '../lib/gateway-config.js';

type Json = Record<string, unknown>;
const config: GatewayConfigInput = { listeners: [{ name: 'edge', port: 5555, destinations: [{ type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q' }] }] };

function synth(props: Partial<UdpGatewayProps> = {}, cfg: GatewayConfigInput = config): Template {
  const app = new App();
  const stack = new Stack(app, 'T');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  new UdpGateway(stack, 'Gw', { config: cfg, vpc, image: ecs.ContainerImage.fromRegistry('example/udp-gateway:test'), snsDelivery: { kind: 'none' }, ...props });
  Validations.of(stack.node.findChild('Vpc')).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test fixture VPC' });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return Template.fromStack(stack);
}
const resources = (t: Template, type: string) => Object.entries(t.findResources(type)) as [string, { Properties: Json; Condition?: string }][];
const gatewayEnv = (t: Template) => {
  const defs = resources(t, 'AWS::ECS::TaskDefinition')[0]![1].Properties.ContainerDefinitions as { Name: string; Environment?: { Name: string; Value: unknown }[] }[];
  return Object.fromEntries((defs.find((c) => c.Name === 'gateway')!.Environment ?? []).map((e) => [e.Name, e.Value]));
};

describe('cluster cache', () => {
  it('one task: no cache, no cluster URL', () => {
    const t = synth({ desiredCount: 1 });
    expect(resources(t, 'AWS::ElastiCache::ReplicationGroup')).toEqual([]);
    expect(gatewayEnv(t).UDPGW_CLUSTER_REDIS).toBeUndefined();
  });

  it('three tasks: a Valkey group across two AZs, TLS and encryption at rest, its URL wired into the tasks', () => {
    const t = synth({ desiredCount: 3 });
    const groups = resources(t, 'AWS::ElastiCache::ReplicationGroup');
    expect(groups).toHaveLength(1);
    const [id, g] = groups[0]!;
    expect(g.Properties).toMatchObject({
      Engine: 'valkey', NumCacheClusters: 2, MultiAZEnabled: true, AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true, Port: 6379,
    });
    expect(gatewayEnv(t).UDPGW_CLUSTER_REDIS).toEqual({ 'Fn::Join': ['', ['rediss://', { 'Fn::GetAtt': [id, 'PrimaryEndPoint.Address'] }, ':', { 'Fn::GetAtt': [id, 'PrimaryEndPoint.Port'] }]] });
  });

  it('takes a node type for more clients (docs/cluster.md: about 200 B per flow key)', () => {
    const [, g] = resources(synth({ desiredCount: 2, clusterCache: { nodeType: 'cache.r7g.large' } }), 'AWS::ElastiCache::ReplicationGroup')[0]!;
    expect(g.Properties.CacheNodeType).toBe('cache.r7g.large');
    expect(resources(synth({ desiredCount: 3, clusterCache: false }), 'AWS::ElastiCache::ReplicationGroup')).toEqual([]);
  });

  it('admits 6379 from the gateway tasks\' security group only', () => {
    const t = synth({ desiredCount: 2 });
    const groups = resources(t, 'AWS::EC2::SecurityGroup').filter(([, g]) => String(g.Properties.GroupDescription).includes('cluster cache'));
    expect(groups).toHaveLength(1);
    const ingress = groups[0]![1].Properties.SecurityGroupIngress as Json[];
    const taskGroup = resources(t, 'AWS::EC2::SecurityGroup').find(([, g]) => String(g.Properties.GroupDescription).startsWith('udp-gateway tasks'))![0];
    expect(ingress).toEqual([{ IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: { 'Fn::GetAtt': [taskGroup, 'GroupId'] }, Description: 'gateway tasks' }]);
  });

  it('autoscaling above one task counts too; a config with its own cluster.redis gets none', () => {
    expect(resources(synth({ desiredCount: 1, autoScaling: { minCapacity: 1, maxCapacity: 4 } }), 'AWS::ElastiCache::ReplicationGroup')).toHaveLength(1);
    const own = { ...config, cluster: { redis: 'rediss://my-valkey.example:6379' } } as GatewayConfigInput;
    const t = synth({ desiredCount: 3 }, own);
    expect(resources(t, 'AWS::ElastiCache::ReplicationGroup')).toEqual([]);
    expect(gatewayEnv(t).UDPGW_CLUSTER_REDIS).toBeUndefined();
  });

  it('the deployable stack: cache and URL conditional on DesiredCount or MaxTasks above 1 (template parameters)', () => {
    const { app, stack } = buildApp({ config, image: 'parameter' } as Parameters<typeof buildApp>[0]);
    app.synth();
    const t = Template.fromStack(stack);
    const json = t.toJSON() as { Conditions: Json };
    expect(json.Conditions.MultiTask).toEqual({ 'Fn::Not': [{ 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'DesiredCount' }, '1'] }, { 'Fn::Equals': [{ Ref: 'MaxTasks' }, '1'] }] }] });
    for (const type of ['AWS::ElastiCache::ReplicationGroup', 'AWS::ElastiCache::SubnetGroup']) {
      expect(resources(t, type).map(([, r]) => r.Condition)).toEqual(['MultiTask']);
    }
    const url = gatewayEnv(t).UDPGW_CLUSTER_REDIS as { 'Fn::If': [string, unknown, string] };
    expect(url['Fn::If'][0]).toBe('MultiTask');
    expect(url['Fn::If'][2]).toBe(''); // an empty variable is ignored by the gateway: a single task serves alone
  });
});
