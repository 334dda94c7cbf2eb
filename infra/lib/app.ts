/**
 * Builds the CDK app used by bin/app.ts, the template script and the tests, with fixed context so
 * the output is deterministic: no version reporting, no path metadata, no lookups, and the feature
 * flags of cdk.json (read here too, so `cdk synth` and `npm run synth:template` agree).
 */
import { readFileSync } from 'node:fs';
import { App, BootstraplessSynthesizer, Validations, type IStackSynthesizer } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { GatewayConfigInput } from './gateway-config.js';
import { GatewayStack, type GatewayStackProps } from './gateway-stack.js';

export const STACK_NAME = 'UdpGateway';

/** Feature flags from cdk.json ("context"): the recommended flags of the aws-cdk-lib version in the lockfile. */
export const FEATURE_FLAGS: Record<string, unknown> =
  (JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

export const DETERMINISTIC_CONTEXT: Record<string, unknown> = {
  ...FEATURE_FLAGS,
  'aws:cdk:version-reporting': false,
  'aws:cdk:enable-path-metadata': false,
  'aws:cdk:enable-asset-metadata': false,
};

/** Stack options other than the config and the image (see lib/context.ts for their cdk context keys). */
export type StackOptions = Omit<GatewayStackProps, 'config' | 'image' | 'exampleApp' | keyof import('aws-cdk-lib').StackProps>;

export interface BuildOptions extends StackOptions {
  readonly config: GatewayConfigInput;
  readonly image?: GatewayStackProps['image'];
  readonly exampleApp?: boolean;
  readonly outdir?: string;
  readonly nag?: boolean;
  /** Stack name (default UdpGateway). */
  readonly stackName?: string;
}

export function buildApp(opts: BuildOptions): { app: App; stack: GatewayStack } {
  const { config, image: imageOpt, exampleApp, outdir, nag, stackName, ...stackOptions } = opts;
  const app = new App({ context: DETERMINISTIC_CONTEXT, analyticsReporting: false, ...(outdir ? { outdir } : {}) });
  const image = imageOpt ?? 'parameter';
  // Without assets the template needs no bootstrap: deployable with plain CloudFormation.
  const synthesizer: IStackSynthesizer | undefined = image === 'parameter' ? new BootstraplessSynthesizer() : undefined;
  const stack = new GatewayStack(app, stackName ?? STACK_NAME, {
    ...stackOptions, config, image, exampleApp: exampleApp ?? false,
    ...(synthesizer ? { synthesizer } : {}),
    description: 'udp-gateway: UDP Network Load Balancer in front of the gateway on ECS Fargate',
  });
  if (nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
