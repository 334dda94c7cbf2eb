/**
 * npm run synth:template — synthesise the stack from example-config.yaml (image as a parameter,
 * example app included, no bootstrap needed) and write cloudformation/udp-gateway.template.json.
 * `--check` compares instead of writing and exits 1 on drift.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import { buildApp, STACK_NAME } from '../lib/app.js';
import { readGatewayConfigFile } from '../lib/gateway-config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_FILE = join(root, 'cloudformation', 'udp-gateway.template.json');
export const EXAMPLE_CONFIG = join(root, 'example-config.yaml');

/** The template as checked in (pretty JSON, trailing newline) and the app it came from.
 *  Throws if cdk-nag or CloudFormation validation reports an unacknowledged finding. */
export function synthTemplate(): { text: string; app: App } {
  const outdir = mkdtempSync(join(tmpdir(), 'udpgw-synth-'));
  try {
    const { app } = buildApp({ config: readGatewayConfigFile(EXAMPLE_CONFIG), image: 'parameter', exampleApp: true, outdir });
    const assembly = app.synth();
    const template: unknown = JSON.parse(readFileSync(join(assembly.directory, `${STACK_NAME}.template.json`), 'utf8'));
    return { text: `${JSON.stringify(template, null, 2)}\n`, app };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { text } = synthTemplate();
  if (process.argv.includes('--check')) {
    const same = readFileSync(TEMPLATE_FILE, 'utf8') === text;
    process.stdout.write(same ? `${TEMPLATE_FILE}: up to date\n` : `${TEMPLATE_FILE}: drifted, run npm run synth:template\n`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(TEMPLATE_FILE, text);
  process.stdout.write(`wrote ${TEMPLATE_FILE}\n`);
}
