/**
 * A message formatter (formatters/<name>/): instead of encoding a datagram's bytes, it writes the
 * parsed message as the event's Data (CoAP: type, code, token, options, payload), and turns a
 * reply's Data in the same shape back into bytes. A datagram it cannot parse is a counted drop at
 * the listener, with the formatter's reason.
 */
export interface DataFormatter {
  readonly name: string;
  /** A drop reason when the datagram is not a message of this format; undefined when it is. */
  check(data: Buffer): string | undefined;
  /** The event's Data for a datagram that passed `check`. */
  encode(data: Buffer): string;
  /** A reply's or out-of-band message's Data (text or an object) back to bytes; an Error saying why not. */
  decode(data: unknown): Buffer | Error;
}

const formatters = new Map<string, DataFormatter>();

export function registerDataFormatter(f: DataFormatter): void { formatters.set(f.name, f); }
export function dataFormatter(name: string): DataFormatter | undefined { return formatters.get(name); }
