/**
 * The parts of the gateway config (gateway/config/schema.ts in the main package) that the
 * infrastructure reads, typed loosely on purpose: the gateway validates the whole file at start-up;
 * here we check only what deployment depends on (ports, shutdown deadline, no inline secrets).
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NLB_UDP_FLOW_IDLE_S } from './limits.js';

export interface DestinationInput { readonly type: string; readonly name?: string; readonly [key: string]: unknown }
export interface ListenerInput {
  readonly name: string;
  readonly port: number;
  readonly host?: string;
  readonly destinations: readonly DestinationInput[];
  readonly [key: string]: unknown;
}
export interface PacketSourceInput { readonly type: string; readonly name?: string; readonly [key: string]: unknown }
export interface GatewayConfigInput {
  readonly listeners: readonly ListenerInput[];
  readonly packetSources?: readonly PacketSourceInput[];
  readonly shutdownDeadlineMs?: number;
  readonly admin?: { readonly enabled?: boolean; readonly host?: string; readonly port?: number; readonly token?: string };
  readonly egress?: { readonly recentClientSeconds?: number; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/**
 * A header value read from Secrets Manager instead of the config (infra only: the stack removes it
 * from the stored config and injects it as an ECS secret into the generic environment override
 * UDPGW_CONFIG__listeners__<i>__destinations__<j>__headers__<name>, which the gateway applies at start).
 */
export interface SecretHeaderRef { readonly secretsManager: string; readonly jsonKey?: string }
export const isSecretHeaderRef = (v: unknown): v is SecretHeaderRef =>
  !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as SecretHeaderRef).secretsManager === 'string';

/** Header names whose plain values are credentials: refused in a deployed config (use a secretsManager reference). */
const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$|token|secret|password|apikey/i;
/** Header names that can travel in an environment variable name (RFC 9110 token characters minus the exotic ones). */
const ENV_SAFE_HEADER = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** The working directory of the image (Dockerfile WORKDIR) and its one writable directory (read-only root filesystem). */
export const IMAGE_WORKDIR = '/app';
export const WRITABLE_DIR = '/app/data';

/** Gateway defaults (gateway/config/schema.ts): admin port 9555, shutdown deadline 10 s. */
export const DEFAULT_ADMIN_PORT = 9555;
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;

export function readGatewayConfigFile(file: string): GatewayConfigInput {
  const text = readFileSync(file, 'utf8');
  return checkGatewayConfig(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text), file);
}

/** Checks what deployment relies on; throws one Error listing every problem. */
export function checkGatewayConfig(raw: unknown, source = 'config'): GatewayConfigInput {
  const problems: string[] = [];
  const cfg = raw as GatewayConfigInput;
  if (!cfg || typeof cfg !== 'object' || !Array.isArray(cfg.listeners) || cfg.listeners.length === 0) {
    throw new Error(`${source}: "listeners" must be a non-empty list`);
  }
  const ports = new Set<number>();
  cfg.listeners.forEach((l, i) => {
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) problems.push(`listeners[${i}].port must be 1-65535 behind a load balancer, got ${JSON.stringify(l.port)}`);
    if (ports.has(l.port)) problems.push(`listeners[${i}].port ${l.port} is used twice`);
    ports.add(l.port);
    if (!Array.isArray(l.destinations)) problems.push(`listeners[${i}].destinations must be a list`);
    else l.destinations.forEach((d: DestinationInput, j: number) => problems.push(...destinationProblems(d, `listeners[${i}].destinations[${j}]`)));
  });
  const recent = cfg.egress?.recentClientSeconds;
  if (typeof recent === 'number' && recent > NLB_UDP_FLOW_IDLE_S) {
    problems.push(`egress.recentClientSeconds ${recent} outlives the NLB's UDP flows (${NLB_UDP_FLOW_IDLE_S} s idle, fixed): out-of-band sends to `
      + 'clients quiet for longer would leave through the NAT gateway, which clients behind NAT drop. Use at most '
      + `${NLB_UDP_FLOW_IDLE_S} (the stack's default is ${DEPLOYED_RECENT_CLIENT_S}), or list networks you really mean to reach in egress.allow`);
  }
  for (const key of ['secret', 'previousSecrets'] as const) {
    if (cfg[key] !== undefined) problems.push(`"${key}" must not be in a deployed config (it would land in SSM/CloudFormation in clear): the stack injects UDPGW_SECRET from Secrets Manager`);
  }
  if (cfg.admin?.token !== undefined) problems.push('"admin.token" must not be in a deployed config: the stack injects UDPGW_ADMIN_TOKEN from Secrets Manager');
  if (cfg.admin?.enabled === false) problems.push('"admin.enabled: false" leaves the load balancer without a health check (/readyz): keep the admin API on');
  if (problems.length) throw new Error(`${source}:\n  ${problems.join('\n  ')}`);
  return cfg;
}

/** The egress policy's client memory in a deployed config: a little under the NLB UDP flow idle timeout. */
export const DEPLOYED_RECENT_CLIENT_S = NLB_UDP_FLOW_IDLE_S - 10;

/** The task's root filesystem is read-only: files must go to the writable data directory. */
function writablePathProblem(path: unknown, where: string): string | undefined {
  if (typeof path !== 'string' || path === '') return undefined;
  const abs = posix.resolve(IMAGE_WORKDIR, path);
  if (abs === WRITABLE_DIR || abs.startsWith(`${WRITABLE_DIR}/`)) return undefined;
  return `${where} ${JSON.stringify(path)} resolves to ${abs}: the task's root filesystem is read-only, write under data/ `
    + `(${WRITABLE_DIR}, task storage that is lost when the task stops)`;
}

function destinationProblems(d: DestinationInput, where: string): string[] {
  const out: string[] = [];
  if (d.type === 'file') { const p = writablePathProblem(d.path, `${where}.path`); if (p) out.push(p); }
  const dl = d.deadLetter as { file?: unknown } | undefined;
  if (dl && typeof dl === 'object') { const p = writablePathProblem(dl.file, `${where}.deadLetter.file`); if (p) out.push(p); }
  const headers = d.headers;
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) {
    out.push(`${where}.headers must be a map of header name to value`);
    return out;
  }
  for (const [name, value] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
    const at = `${where}.headers.${name}`;
    if (isSecretHeaderRef(value)) {
      const extra = Object.keys(value).filter((k) => k !== 'secretsManager' && k !== 'jsonKey');
      if (extra.length) out.push(`${at}: a Secrets Manager reference takes only secretsManager and jsonKey, not ${extra.join(', ')}`);
      if (!ENV_SAFE_HEADER.test(name)) out.push(`${at}: a header read from Secrets Manager must be named with letters, digits and "-"`);
      if (value.jsonKey !== undefined && (typeof value.jsonKey !== 'string' || value.jsonKey === '')) out.push(`${at}.jsonKey must be a non-empty string`);
    } else if (typeof value !== 'string') {
      out.push(`${at} must be a string or { secretsManager: <secret ARN or name>, jsonKey?: <key> }`);
    } else if (CREDENTIAL_HEADER.test(name)) {
      out.push(`${at} looks like a credential: a plain value would land in SSM and CloudFormation in clear; `
        + 'use { secretsManager: <secret ARN or name>, jsonKey?: <key> } instead (docs/deploy.md)');
    }
  }
  return out;
}

export const adminPort = (cfg: GatewayConfigInput): number => cfg.admin?.port ?? DEFAULT_ADMIN_PORT;
export const shutdownDeadlineMs = (cfg: GatewayConfigInput): number => cfg.shutdownDeadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS;
