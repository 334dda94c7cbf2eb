/** CIDR matching with node:net BlockList (IPv4 and IPv6). Pure apart from BlockList. */
import { BlockList, isIP } from 'node:net';

/** Returns an error message for an invalid CIDR, undefined if valid. */
export function checkCidr(text: string): string | undefined {
  const [addr, bits, extra] = text.split('/');
  if (extra !== undefined || !addr) return `"${text}" is not a CIDR: write it as 10.0.0.0/8, 2001:db8::/32 or a single address`;
  const family = isIP(addr);
  if (family === 0) return `"${text}" does not start with an IPv4 or IPv6 address`;
  if (bits === undefined) return undefined;
  const n = Number(bits);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(bits) || n > max) return `"${text}" has an invalid prefix length: use 0..${max}`;
  return undefined;
}

/** Build a matcher from CIDRs (validated by the config first). IPv4-mapped IPv6 clients match IPv4 rules. */
export function createCidrMatcher(cidrs: readonly string[]): (address: string) => boolean {
  // Stryker disable next-line ConditionalExpression: equivalent, an empty BlockList matches nothing either; this only skips building one
  if (cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/') as [string, string | undefined];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return (address: string) => {
    // node:net BlockList itself matches an IPv4-mapped IPv6 address against IPv4 rules (since it was
    // added, nodejs/node#34625; test/core/cidr.test.ts checks it), so the unwrap below only states the
    // intent: mutants of it are equivalent on every Node this package supports.
    // Stryker disable next-line all: equivalent (see above)
    const v4mapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4;
    // Stryker disable next-line all: equivalent (see above)
    const a = v4mapped ? address.slice(7) : address;
    return list.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
  };
}
