/** Small pure helpers for request/response destinations (lambda, stepfunctions). */
import type { Formatter, Packet } from '../../gateway/plugin-kit.js';

/** Formatter of the packet a reply's tag belongs to (replies use the packet's formatter). */
/** "FunctionError (Unhandled): <errorType>: <errorMessage>" from Lambda's error payload. */
export function functionErrorReason(kind: string, payload: string): string {
  let detail = payload.slice(0, 500);
  try {
    const e = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    if (e && typeof e === 'object' && e.errorMessage !== undefined) detail = `${e.errorType ? `${e.errorType}: ` : ''}${e.errorMessage}`;
  } catch { /* not JSON: keep the text */ }
  return `FunctionError (${kind}): ${detail}`;
}
