/**
 * The one table of error codes (UGW_ERR_<AREA>_<WHAT>). docs/errors.md is kept in step by a test.
 * Bad packets are not errors: they are drops with a reason (see gateway/metrics.ts).
 */
export const ERRORS = {
  UGW_ERR_CONFIG_INVALID: 'The configuration does not match the schema; every problem is listed with its path.',
  UGW_ERR_CONFIG_READ: 'The configuration file could not be read or parsed as YAML/JSON.',
  UGW_ERR_CONFIG_UNKNOWN_DESTINATION: 'A destination names a type that no destination kind provides.',
  UGW_ERR_CONFIG_ENV: 'An environment variable override could not be applied.',
  UGW_ERR_LISTENER_BIND: 'A listener could not bind its UDP socket (address in use, or not available).',
  UGW_ERR_HANDLER_LOAD: 'A handler module could not be loaded or does not export a handler function.',
  UGW_ERR_HANDLER_TIMEOUT: 'A handler did not answer within its timeout; its worker was replaced.',
  UGW_ERR_DESTINATION_CREATE: 'A destination could not be created from its options.',
  UGW_ERR_EGRESS_REFUSED: 'An out-of-band or reply send was refused (bad tag, unknown listener, address policy).',
  UGW_ERR_ADMIN_UNAUTHORIZED: 'The admin API request did not carry the configured bearer token.',
  UGW_ERR_ADMIN_BAD_REQUEST: 'The admin API request body is not a valid Messages or Replies document.',
  UGW_ERR_PACKET_SOURCE_SIGNATURE: 'An SNS message signature could not be verified.',
  UGW_ERR_PACKET_SOURCE_MESSAGE: 'An out-of-band message is malformed.',
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
    super(code, `invalid configuration:\n${problems.map((p) => `  ${p.path || '/'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
