/**
 * The config the container actually runs: the user's file, adjusted for running behind an NLB
 * in an awsvpc task (pure: no CDK). Secrets never appear here; they arrive as UDPGW_SECRET,
 * UDPGW_ADMIN_TOKEN and one UDPGW_CONFIG__… variable per Secrets Manager header, all ECS secrets.
 */
import {
  DEPLOYED_RECENT_CLIENT_S, isSecretHeaderRef,
  type DestinationInput, type GatewayConfigInput, type PacketSourceInput, type SecretHeaderRef,
} from './gateway-config.js';

export interface DeployAdjustments {
  /** Queue the SQS packet source polls (the construct's own queue), if the stack creates one. */
  readonly pollQueueUrl?: string;
  /** Topic to allow on the config's sns-http packet source, if the stack subscribes it over HTTPS. */
  readonly snsTopicArn?: string;
  /** Dual-stack NLB: listeners and the admin API bind "::" (IPv6 targets; IPv4 is accepted on the same socket). */
  readonly dualStack?: boolean;
}

/** A header the gateway reads from the environment variable `env`, which ECS fills from Secrets Manager. */
export interface HeaderSecret extends SecretHeaderRef { readonly env: string }

/**
 * - every listener binds 0.0.0.0 ("::" dual-stack): traffic arrives on the task's ENI from the NLB;
 * - the admin API binds the same so the NLB's HTTP health check reaches /readyz (the task security
 *   group opens the admin port to the load balancer's security group only);
 * - egress.recentClientSeconds defaults to a little under the NLB UDP flow idle timeout, so an
 *   out-of-band send goes only to clients whose flow still exists (otherwise it is refused and counted);
 * - an SQS packet source for the stack's queue is appended, or the topic ARN added to sns-http;
 * - header values that reference Secrets Manager are removed (see headerSecrets).
 */
export function deployedConfig(cfg: GatewayConfigInput, adj: DeployAdjustments = {}): GatewayConfigInput {
  const host = adj.dualStack ? '::' : '0.0.0.0';
  const listeners = cfg.listeners.map((l) => ({ ...l, host, destinations: l.destinations.map(withoutSecretHeaders) }));
  const admin = { ...(cfg.admin ?? {}), enabled: true, host };
  const egress = { ...(cfg.egress ?? {}), recentClientSeconds: cfg.egress?.recentClientSeconds ?? DEPLOYED_RECENT_CLIENT_S };
  let packetSources: PacketSourceInput[] = [...(cfg.packetSources ?? [])];
  if (adj.pollQueueUrl) packetSources.push({ name: 'sns-queue', type: 'sqs', queueUrl: adj.pollQueueUrl });
  if (adj.snsTopicArn) {
    const arn = adj.snsTopicArn;
    packetSources = packetSources.map((p) => (p.type === 'sns-http'
      ? { ...p, topicArns: [...((p.topicArns as string[] | undefined) ?? []), arn] } : p));
  }
  return { ...cfg, listeners, admin, egress, packetSources };
}

function withoutSecretHeaders(d: DestinationInput): DestinationInput {
  if (!d.headers || typeof d.headers !== 'object') return d;
  const plain = Object.entries(d.headers as Record<string, unknown>).filter(([, v]) => !isSecretHeaderRef(v));
  const { headers: _omit, ...rest } = d;
  return plain.length ? { ...rest, headers: Object.fromEntries(plain) } : rest as DestinationInput;
}

/** Every Secrets Manager header reference, with the environment override the gateway applies
 *  (app/config/load.ts applyEnv: UDPGW_CONFIG__<path with __ between keys>). */
export function headerSecrets(cfg: GatewayConfigInput): HeaderSecret[] {
  const out: HeaderSecret[] = [];
  cfg.listeners.forEach((l, li) => l.destinations.forEach((d, di) => {
    for (const [name, v] of Object.entries((d.headers ?? {}) as Record<string, unknown>)) {
      if (isSecretHeaderRef(v)) out.push({ ...v, env: `UDPGW_CONFIG__listeners__${li}__destinations__${di}__headers__${name}` });
    }
  }));
  return out;
}

export function snsHttpSource(cfg: GatewayConfigInput): PacketSourceInput | undefined {
  return (cfg.packetSources ?? []).find((p) => p.type === 'sns-http');
}
