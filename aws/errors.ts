/**
 * Classify an AWS SDK error into a delivery outcome: throttling, 5xx and network problems are
 * 'retryable'; validation, access denied, missing resources and other 4xx are 'failed' with reason.
 */
import { failed, retryable, type DeliveryOutcome } from '../gateway/plugin-kit.js';

/** Error names (the service's error code) that mean "slow down" or "try again". */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestThrottled',
  'RequestThrottledException', 'RequestLimitExceeded', 'ProvisionedThroughputExceededException',
  'LimitExceededException', 'SlowDown', 'TransactionInProgressException', 'KMSThrottlingException',
  'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalError', 'InternalServerError',
  'InternalServiceError', 'InternalServiceErrorException', 'ServiceException', 'ServiceFailure',
  'EC2ThrottledException', 'ResourceConflictException', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError', 'AbortError', 'PriorRequestNotComplete', 'ConcurrentModificationException',
]);

/** Node network error codes (no HTTP response at all). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function describeAwsError(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? e.code ?? 'Error';
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
}

export function isRetryableAwsError(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  // Configuration problems that no retry fixes: no region anywhere in the chain, a bad endpoint URL.
  if (/Region is missing|Invalid URL|Invalid region/i.test(e.message ?? '')) return false;
  if (e.$retryable) return true;
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return !(err instanceof TypeError) && !(e.name && /Validation|Invalid/.test(e.name));
  return status === 429 || status >= 500;
}

/** The outcome every packet of a batch gets when the whole call failed. */
export function outcomeForAwsError(err: unknown): DeliveryOutcome {
  const reason = describeAwsError(err);
  return isRetryableAwsError(err) ? retryable(reason) : failed(reason);
}

/** Per-entry error codes in batch responses (Kinesis, Firehose, SQS, SNS, EventBridge). */
export function outcomeForEntryError(code: string | undefined, message: string | undefined, senderFault?: boolean): DeliveryOutcome {
  const reason = `${code ?? 'Error'}: ${message ?? 'entry failed'}`;
  if (senderFault === true) return failed(reason);
  if (senderFault === false) return retryable(reason);
  if (code && (RETRYABLE_NAMES.has(code) || /Throttl|Internal|Unavailable|Timeout|Exceeded/i.test(code))) return retryable(reason);
  return failed(reason);
}
