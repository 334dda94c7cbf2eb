/**
 * Builds the CDK app used by bin/app.ts, the template script and the tests, with fixed context so
 * the output is deterministic: no version reporting, no path metadata, no lookups.
 */
import { App, BootstraplessSynthesizer, Validations, type IStackSynthesizer } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { GatewayConfigInput } from './gateway-config.js';
import { GatewayStack, type GatewayStackProps } from './gateway-stack.js';

export const STACK_NAME = 'UdpGateway';

export const DETERMINISTIC_CONTEXT: Record<string, unknown> = {
  'aws:cdk:version-reporting': false,
  'aws:cdk:enable-path-metadata': false,
  'aws:cdk:enable-asset-metadata': false,
};

export interface BuildOptions {
  readonly config: GatewayConfigInput;
  readonly image?: GatewayStackProps['image'];
  readonly exampleApp?: boolean;
  readonly snsDelivery?: GatewayStackProps['snsDelivery'];
  readonly outdir?: string;
  readonly nag?: boolean;
}

export function buildApp(opts: BuildOptions): { app: App; stack: GatewayStack } {
  const app = new App({ context: DETERMINISTIC_CONTEXT, analyticsReporting: false, ...(opts.outdir ? { outdir: opts.outdir } : {}) });
  const image = opts.image ?? 'parameter';
  // Without assets the template needs no bootstrap: deployable with plain CloudFormation.
  const synthesizer: IStackSynthesizer | undefined = image === 'parameter' ? new BootstraplessSynthesizer() : undefined;
  const stack = new GatewayStack(app, STACK_NAME, {
    config: opts.config, image, exampleApp: opts.exampleApp ?? false,
    ...(opts.snsDelivery ? { snsDelivery: opts.snsDelivery } : {}),
    ...(synthesizer ? { synthesizer } : {}),
    description: 'udp-gateway: UDP Network Load Balancer in front of the gateway on ECS Fargate',
  });
  if (opts.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
