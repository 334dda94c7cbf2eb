/** The `coap` formatter (RFC 7252): datagrams <-> the JSON shape of ./coap-json.ts. Pure. */
export {
  codeText, coapText, coapUint, encodeCoap, fromCoapJson, parseCoap, readCoapText, readCoapUint, toCoapJson, TYPE_NAMES,
  type CoapEncodeError, type CoapJson, type CoapOption,
} from './coap-json.js';
export { encodeCoapMessage, parseCoapMessage, type CoapMessageBytes, type CoapParseError } from './coap-message.js';

import { encodeCoap, parseCoap } from './coap-json.js';

/**
 * For the event contract: `Data` as text, the way the reference service's coap formatter
 * delivers it (a string holding the JSON). A drop reason when the datagram is not CoAP.
 */
export function encodeCoapData(datagram: Buffer): { ok: true; data: string } | { ok: false; reason: string } {
  const p = parseCoap(datagram);
  return p.ok ? { ok: true, data: JSON.stringify(p.json) } : p;
}

/** A reply's `Data` (JSON text or an object) back to a datagram, or an Error naming what is wrong. */
export function decodeCoapData(data: unknown): Buffer | Error {
  const e = encodeCoap(data);
  return e.ok ? e.datagram : new Error(`Data is not a CoAP message (${e.reason})`);
}
