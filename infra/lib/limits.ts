/**
 * AWS limits the stack is designed around, each with where it is documented. Synthesis refuses a
 * config that would break one of them at deploy time instead of leaving it to CloudFormation.
 */

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
