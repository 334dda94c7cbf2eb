/**
 * The shared state of a gateway that runs more than one task (docs/cluster.md): an ElastiCache for
 * Valkey replication group in the VPC, primary and replica in two AZs with automatic failover, TLS
 * in transit and encryption at rest, reachable on 6379 from the gateway tasks' security group only.
 * The gateway reaches it as rediss://<primary endpoint>:<port> (UDPGW_CLUSTER_REDIS).
 *
 * What is stored (docs/cluster.md, "What 100 nodes and 10 million clients cost"): one key per
 * client flow seen in the egress window, one per task; nothing durable. No snapshots: after a
 * failover or restart every task writes its flows again.
 */
import { CfnCondition, Fn, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';

export const CLUSTER_CACHE_PORT = 6379;

export interface ClusterCacheProps {
  readonly vpc: ec2.IVpc;
  /** Where the cache nodes live (the tasks' subnets, one per AZ). */
  readonly subnets: ec2.SubnetSelection;
  /** Only this security group (the tasks') may connect. */
  readonly clients: ec2.ISecurityGroup;
  /** Node type (default cache.t4g.small: 1.37 GiB, about 5 million flow keys at ~200 B each; see docs/cluster.md). */
  readonly nodeType?: string;
  /** Created only where the condition holds (a template whose task count is a parameter). */
  readonly condition?: CfnCondition;
}

export class ClusterCache extends Construct {
  /** rediss://host:port of the primary (a token). */
  readonly url: string;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly securityGroup: ec2.CfnSecurityGroup;

  constructor(scope: Construct, id: string, props: ClusterCacheProps) {
    super(scope, id);
    this.securityGroup = new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpc.vpcId,
      groupDescription: 'udp-gateway cluster cache (Valkey): 6379 from the gateway tasks only',
      securityGroupIngress: [{ ipProtocol: 'tcp', fromPort: CLUSTER_CACHE_PORT, toPort: CLUSTER_CACHE_PORT, sourceSecurityGroupId: props.clients.securityGroupId, description: 'gateway tasks' }],
      // A cache opens no connection of its own: deny all egress (a rule to 255.255.255.255/32 on no port).
      securityGroupEgress: [{ ipProtocol: 'icmp', fromPort: 252, toPort: 86, cidrIp: '255.255.255.255/32', description: 'Disallow all traffic' }],
    });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'udp-gateway cluster cache: the gateway task subnets',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: 'udp-gateway cluster state: flow owners, node liveness, forwarding (pub/sub)',
      engine: 'valkey', engineVersion: '8.0', cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      numCacheClusters: 2, multiAzEnabled: true, automaticFailoverEnabled: true,
      transitEncryptionEnabled: true, atRestEncryptionEnabled: true,
      port: CLUSTER_CACHE_PORT,
      cacheSubnetGroupName: subnetGroup.ref, securityGroupIds: [this.securityGroup.attrGroupId],
      snapshotRetentionLimit: 0,
    });
    this.replicationGroup.addResourceDependency(subnetGroup);
    if (props.condition) for (const r of [this.securityGroup, subnetGroup, this.replicationGroup]) r.cfnOptions.condition = props.condition;
    this.url = Fn.join('', ['rediss://', this.replicationGroup.attrPrimaryEndPointAddress, ':', this.replicationGroup.attrPrimaryEndPointPort]);
    acknowledge(this.replicationGroup, 'AwsSolutions-AEC6', 'No AUTH token: the cache holds no secret and no payload (flow owners '
      + 'and node liveness only; forwarded datagrams pass through pub/sub and are not stored), TLS is on, and only the gateway '
      + 'tasks\' security group reaches it.');
    acknowledge(this.replicationGroup, 'AwsSolutions-AEC5', 'The default port: the security group admits the gateway tasks only, '
      + 'so a non-default port would hide nothing.');
  }
}

/** UdpGateway's choice: created or not, where a condition holds, or of a given node type. */
export type ClusterCacheChoice = boolean | CfnCondition | { readonly nodeType?: string; readonly condition?: CfnCondition };

/**
 * The cache when more than one task can run (or as chosen), its URL in the gateway container's
 * environment (UDPGW_CLUSTER_REDIS; under a condition, empty where it does not hold: the gateway ignores it).
 */
export function addClusterCache(scope: Construct, o: {
  readonly clusterCache?: ClusterCacheChoice; readonly desiredCount?: number; readonly autoScaling?: { readonly maxCapacity: number };
  readonly configHasCluster: boolean; readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection;
  readonly clients: ec2.ISecurityGroup; readonly container: ecs.ContainerDefinition;
}): ClusterCache | undefined {
  const many = (n: number | undefined) => n !== undefined && (Token.isUnresolved(n) || n > 1);
  const want = o.clusterCache ?? (many(o.desiredCount ?? 2) || many(o.autoScaling?.maxCapacity));
  if (want === false || o.configHasCluster) return undefined;
  const choice = want === true ? {} : want instanceof CfnCondition ? { condition: want } : want;
  const cache = new ClusterCache(scope, 'ClusterCache', { vpc: o.vpc, subnets: o.subnets, clients: o.clients, ...choice });
  const url = choice.condition ? Fn.conditionIf(choice.condition.logicalId, cache.url, '').toString() : cache.url;
  o.container.addEnvironment('UDPGW_CLUSTER_REDIS', url);
  return cache;
}
