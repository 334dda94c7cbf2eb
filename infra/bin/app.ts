#!/usr/bin/env node
/**
 * cdk app. Context (-c key=value): see CONTEXT_KEYS in lib/context.ts and docs/deploy.md; the main ones:
 *   config=<path>            gateway config file (YAML or JSON); default example-config.yaml
 *   image=asset|parameter    asset (default): build ../Dockerfile at deploy (needs Docker and `cdk bootstrap`);
 *                            parameter: the stack takes an ImageUri parameter and needs no bootstrap
 *   example=true             also deploy the example app (counter Lambda, Firehose archive, notifier)
 *   desiredCount, minTasks, maxTasks, cpu, memory   defaults of the sizing parameters
 */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { buildApp } from '../lib/app.js';
import { parseContext, type ContextKey } from '../lib/context.js';
import { readGatewayConfigFile } from '../lib/gateway-config.js';

const here = dirname(fileURLToPath(import.meta.url));
const context = process.env.CDK_CONTEXT_JSON ? (JSON.parse(process.env.CDK_CONTEXT_JSON) as Record<string, unknown>) : {};
const parsed = parseContext((key: ContextKey) => {
  const v = context[key];
  return v === undefined ? undefined : String(v);
});
const configFile = resolve(parsed.configFile ?? resolve(here, '..', 'example-config.yaml'));
const image = parsed.image === 'parameter' ? 'parameter' as const
  : { directory: resolve(here, '..', '..'), ...(parsed.nodeVersion ? { buildArgs: { NODE_VERSION: parsed.nodeVersion } } : {}) };
const { app } = buildApp({
  config: readGatewayConfigFile(configFile), image, exampleApp: parsed.exampleApp,
  ...(parsed.stackName ? { stackName: parsed.stackName } : {}), ...parsed.options,
});
app.synth();
