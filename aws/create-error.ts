/** Turn a bad option found at create() time into the gateway's destination-create error. */
import { GatewayError } from '../gateway/plugin-kit.js';
import { parseExpression, type Expression } from '../gateway/plugin-kit.js';

export function compileExpression(destination: string, option: string, source: string): Expression {
  try {
    return parseExpression(source);
  } catch (err) {
    throw new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${destination}": option ${option}: ${(err as Error).message}`, { cause: err });
  }
}

export function createError(destination: string, message: string): GatewayError {
  return new GatewayError('UGW_ERR_DESTINATION_CREATE', `destination "${destination}": ${message}`);
}
