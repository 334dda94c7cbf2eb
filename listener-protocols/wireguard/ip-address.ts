/** IP address text <-> bytes, for inner packet headers. IPv6 text is RFC 5952 (lower case, longest zero run as ::). */
import { isIP } from 'node:net';

/** Bytes of an address already known to be valid IPv4 (4 bytes) or IPv6 (16 bytes). */
export function ipBytes(address: string, family: 4 | 6): Buffer {
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  return ipv6Bytes(address);
}

function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let text = address.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) { // embedded IPv4 in the last 32 bits: rewrite as two hex words
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(':').filter((w) => w !== '').map((w) => parseInt(w, 16)) : []);
  const left = words(head);
  const right = words(rest);
  const all = rest === undefined && left.length + right.length === 8 ? [...left, ...right]
    : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.subarray(12).join('.')}`; // RFC 5952 §5
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero word is not shortened
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function ipFamily(address: string): 4 | 6 | 0 {
  return isIP(address) as 4 | 6 | 0;
}
