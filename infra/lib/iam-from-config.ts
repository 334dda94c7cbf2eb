/**
 * Least-privilege IAM statements derived from a gateway config (pure: no CDK, no I/O). The rules are
 * not written here: each destination and packet source kind states its own in its manifest
 * (destinations/<kind>/manifest.ts `iam`), and the gateway's app/iam.ts walks the config through
 * them — destinations, their dead-letter targets, packet sources. Every statement names the exact
 * resource ARN the config points at; an unknown type or a missing option is an error, so a new AWS
 * destination can never deploy without IAM.
 */
import { iamStatementsForConfig } from '../../app/iam.js';
import type { GatewayConfigInput } from './gateway-config.js';

export { queueArnFromUrl, lambdaArn, mergeStatements, type IamStatement, type ArnContext } from '../../aws/iam.js';
import type { ArnContext, IamStatement } from '../../aws/iam.js';

/** All statements the gateway task role needs for this config, merged (same actions → one statement). */
export function iamStatementsFromConfig(config: GatewayConfigInput, ctx: ArnContext): IamStatement[] {
  return iamStatementsForConfig(config as unknown as Parameters<typeof iamStatementsForConfig>[0], ctx);
}
