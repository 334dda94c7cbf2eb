#!/usr/bin/env node
/**
 * cdk app. Context (-c key=value):
 *   config=<path>       gateway config file (YAML or JSON); default example-config.yaml
 *   image=asset|parameter
 *                       asset (default): build ../Dockerfile at deploy (needs Docker and `cdk bootstrap`);
 *                       parameter: the stack takes an ImageUri parameter and needs no bootstrap
 *   example=true        also deploy the example app (counter Lambda, Firehose archive, notifier)
 *   snsDelivery=sqs|none  how the SNS packet topic reaches the gateway (default sqs)
 */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { buildApp } from '../lib/app.js';
import { readGatewayConfigFile } from '../lib/gateway-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const ctx = (key: string): string | undefined => {
  const v: unknown = process.env.CDK_CONTEXT_JSON ? (JSON.parse(process.env.CDK_CONTEXT_JSON) as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : v === undefined ? undefined : String(v);
};
const configFile = resolve(ctx('config') ?? resolve(here, '..', 'example-config.yaml'));
const image = ctx('image') === 'parameter' ? 'parameter' as const : { directory: resolve(here, '..', '..') };
const snsDelivery = ctx('snsDelivery') === 'none' ? { kind: 'none' as const } : { kind: 'sqs' as const };
const { app } = buildApp({ config: readGatewayConfigFile(configFile), image, exampleApp: ctx('example') === 'true', snsDelivery });
app.synth();
