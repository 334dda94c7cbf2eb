/**
 * The parts of the gateway config (gateway/config/schema.ts in the main package) that the
 * infrastructure reads, typed loosely on purpose: the gateway validates the whole file at start-up;
 * here we check only what deployment depends on (ports, shutdown deadline, no inline secrets).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

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
  readonly [key: string]: unknown;
}

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
  });
  for (const key of ['secret', 'previousSecrets'] as const) {
    if (cfg[key] !== undefined) problems.push(`"${key}" must not be in a deployed config (it would land in SSM/CloudFormation in clear): the stack injects UDPGW_SECRET from Secrets Manager`);
  }
  if (cfg.admin?.token !== undefined) problems.push('"admin.token" must not be in a deployed config: the stack injects UDPGW_ADMIN_TOKEN from Secrets Manager');
  if (cfg.admin?.enabled === false) problems.push('"admin.enabled: false" leaves the load balancer without a health check (/readyz): keep the admin API on');
  if (problems.length) throw new Error(`${source}:\n  ${problems.join('\n  ')}`);
  return cfg;
}

export const adminPort = (cfg: GatewayConfigInput): number => cfg.admin?.port ?? DEFAULT_ADMIN_PORT;
export const shutdownDeadlineMs = (cfg: GatewayConfigInput): number => cfg.shutdownDeadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS;
