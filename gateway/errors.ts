/**
 * The one table of error codes (UGW_ERR_<AREA>_<WHAT>). docs/errors.md is kept in step by a test.
 * Bad packets, refused sends, handler timeouts and bad SNS signatures are not errors: they are
 * counted drops, refusals or delivery outcomes with a reason (see gateway/metrics.ts).
 */
export const ERRORS = {
  UGW_ERR_CONFIG_INVALID: 'The configuration has problems (schema, addresses, names, files it refers to); `validate` and `start` list every one with its path and the fix.',
  UGW_ERR_CONFIG_READ: 'The configuration file could not be read, or is not valid YAML/JSON (the line and column are given).',
  UGW_ERR_CLI_USAGE: 'The command line could not be understood (unknown command or option, missing or bad value); the process exits with code 2.',
  UGW_ERR_LISTENER_BIND: 'A listener could not bind its UDP socket (address in use, or not available).',
  UGW_ERR_HANDLER_LOAD: 'A handler module could not be loaded or does not export a handler function.',
  UGW_ERR_DESTINATION_CREATE: 'A destination could not be created from its options.',
  UGW_ERR_LISTENER_PROTOCOL: 'A listener protocol (WireGuard) could not be set up from its options: a key, its file, an address.',
  UGW_ERR_RELOAD_FAILED: 'A reload\'s new configuration is valid but could not be applied (a listener could not bind, a destination could not be created); the running gateway was left as it was.',
  UGW_ERR_ADMIN_UNAUTHORIZED: 'The admin API request did not carry the configured bearer token.',
  UGW_ERR_ADMIN_BAD_REQUEST: 'The admin API request body is not a valid Messages or Replies document.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
  }
}

export interface ConfigProblem { readonly path: string; readonly message: string }

export class ConfigError extends GatewayError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[], code: ErrorCode = 'UGW_ERR_CONFIG_INVALID') {
    super(code, code === 'UGW_ERR_CONFIG_INVALID'
      ? `invalid configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n${problems.map((p) => `  ${p.path || '/'}: ${p.message}`).join('\n')}`
      : problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
