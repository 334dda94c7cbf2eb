/**
 * The config the container actually runs: the user's file, adjusted for running behind an NLB
 * in an awsvpc task (pure: no CDK). Secrets never appear here; they arrive as UDPGW_SECRET and
 * UDPGW_ADMIN_TOKEN from Secrets Manager.
 */
import type { GatewayConfigInput, PacketSourceInput } from './gateway-config.js';

export interface DeployAdjustments {
  /** Queue the SQS packet source polls (the construct's own queue), if the stack creates one. */
  readonly pollQueueUrl?: string;
  /** Topic to allow on the config's sns-http packet source, if the stack subscribes it over HTTPS. */
  readonly snsTopicArn?: string;
}

/**
 * - every listener binds 0.0.0.0: traffic arrives on the task's ENI from the NLB;
 * - the admin API binds 0.0.0.0 so the NLB's HTTP health check reaches /readyz (the security group
 *   opens the admin port to the VPC CIDR only);
 * - an SQS packet source for the stack's queue is appended, or the topic ARN added to sns-http.
 */
export function deployedConfig(cfg: GatewayConfigInput, adj: DeployAdjustments = {}): GatewayConfigInput {
  const listeners = cfg.listeners.map((l) => ({ ...l, host: '0.0.0.0' }));
  const admin = { ...(cfg.admin ?? {}), enabled: true, host: '0.0.0.0' };
  let packetSources: PacketSourceInput[] = [...(cfg.packetSources ?? [])];
  if (adj.pollQueueUrl) packetSources.push({ name: 'sns-queue', type: 'sqs', queueUrl: adj.pollQueueUrl });
  if (adj.snsTopicArn) {
    const arn = adj.snsTopicArn;
    packetSources = packetSources.map((p) => (p.type === 'sns-http'
      ? { ...p, topicArns: [...((p.topicArns as string[] | undefined) ?? []), arn] } : p));
  }
  return { ...cfg, listeners, admin, packetSources };
}

export function snsHttpSource(cfg: GatewayConfigInput): PacketSourceInput | undefined {
  return (cfg.packetSources ?? []).find((p) => p.type === 'sns-http');
}
