/** The `coap` message formatter: Data in events is the parsed CoAP message (RFC 7252), replies in the same shape become CoAP bytes. */
import type { DataFormatter } from '../../gateway/plugin-kit.js';
import { decodeCoapData, encodeCoapData } from './index.js';
import { parseCoap } from './coap-json.js';

export const coapFormatter: DataFormatter = {
  name: 'coap',
  check: (data) => { const p = parseCoap(data); return p.ok ? undefined : p.reason; },
  encode: (data) => { const e = encodeCoapData(data); return e.ok ? e.data : ''; },
  decode: (data) => decodeCoapData(data),
};
