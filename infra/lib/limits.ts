/**
 * AWS limits the stack is designed around, each with where it is documented, and the synth-time
 * checks against them: synthesis refuses a config that would break one of them at deploy time
 * instead of leaving it to CloudFormation.
 */
import type { GatewayConfigInput } from './gateway-config.js';

/** ECS: "You can specify up to five target groups" per service (ECS developer guide, "Register multiple target
 *  groups with an Amazon ECS service"). One per UDP listener, plus one for the SNS HTTPS listener. */
export const MAX_TARGET_GROUPS_PER_SERVICE = 5;

/** NLB: UDP flows time out after 120 s idle, and this value cannot be changed (ELB docs, "Listeners for your
 *  Network Load Balancers" → Connection idle timeout: TCP is configurable, UDP is fixed at 120 s). */
export const NLB_UDP_FLOW_IDLE_S = 120;

/** SSM Parameter Store value size: 4 KB standard tier, 8 KB advanced tier (Systems Manager docs,
 *  "Managing parameter tiers"). An advanced parameter cannot be turned back into a standard one. */
export const SSM_PARAMETER_LIMIT_BYTES = { standard: 4096, advanced: 8192 } as const;
export type SsmTier = keyof typeof SSM_PARAMETER_LIMIT_BYTES;

/** Fargate: "the max stop timeout value is 120 seconds" (ECS container definition stopTimeout). */
export const FARGATE_MAX_STOP_TIMEOUT_S = 120;

/** Deployed length assumed for each CloudFormation token in the stored config (queue URL, topic ARN): their maximum. */
const TOKEN_BUDGET_BYTES = 256;

/** ECS: at most five target groups per service; one per UDP listener, one more for the SNS HTTPS listener. */
export function checkTargetGroupBudget(udpListeners: number, snsHttps: boolean): void {
  const max = MAX_TARGET_GROUPS_PER_SERVICE - (snsHttps ? 1 : 0);
  if (udpListeners > max) {
    throw new Error(`${udpListeners} UDP listeners: an ECS service takes at most ${MAX_TARGET_GROUPS_PER_SERVICE} target groups `
      + `(one per listener${snsHttps ? ', plus one for the SNS HTTPS listener' : ''}), so at most ${max} listeners per stack. `
      + 'Split the listeners over several configs and deploy one stack per config (docs/deploy.md, "Limits").');
  }
}

/** The stored config must fit the parameter tier, with every CloudFormation token at its longest. */
export function checkConfigSize(runConfig: GatewayConfigInput, tier: SsmTier): number {
  const json = JSON.stringify(runConfig).replace(/\$\{Token\[[^\]]+\]\}/g, 'x'.repeat(TOKEN_BUDGET_BYTES));
  const bytes = Buffer.byteLength(json, 'utf8');
  const limit = SSM_PARAMETER_LIMIT_BYTES[tier];
  if (bytes > limit) {
    const hint = tier === 'standard'
      ? ` Use the advanced tier (-c ssmTier=advanced, ${SSM_PARAMETER_LIMIT_BYTES.advanced} bytes; it cannot be turned back), or shorten the config`
      : ' Shorten the config (defaults need not be spelled out), or split listeners over stacks';
    throw new Error(`the deployed config is ${bytes} bytes (CloudFormation references counted at ${TOKEN_BUDGET_BYTES} bytes each), over the `
      + `SSM ${tier} tier's ${limit}.${hint}.`);
  }
  return bytes;
}
