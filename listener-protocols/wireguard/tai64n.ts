/**
 * TAI64N timestamps (whitepaper §5.1 replay protection of initiations): 8 bytes big-endian
 * seconds label (2^62 + 10 + Unix seconds) then 4 bytes big-endian nanoseconds. Like
 * wireguard-go, nanoseconds are rounded down to 2^24 ns (~16.8 ms) so the value does not
 * leak a precise clock.
 */
const TAI64_BASE = 0x4000_0000_0000_000an;
const WHITENER_MASK = 0x00ff_ffff;

export function tai64n(unixMillis: number): Buffer {
  const out = Buffer.alloc(12);
  const seconds = Math.floor(unixMillis / 1000);
  const nanos = Math.floor((unixMillis - seconds * 1000) * 1e6);
  out.writeBigUInt64BE(TAI64_BASE + BigInt(seconds), 0);
  out.writeUInt32BE((nanos & ~WHITENER_MASK) >>> 0, 8);
  return out;
}

/** True when `a` is strictly later than `b` (both 12-byte TAI64N; big-endian so byte order = time order). */
export function isAfter(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b === undefined || Buffer.compare(a, b) > 0;
}
