/** Cryptokey routing (whitepaper §2): which inner addresses a peer may use, with node:net BlockList. */
import { BlockList } from 'node:net';
import { ipFamily } from './ip-address.js';

/** Throws a clear error for a CIDR that is not `address/prefix` or a single address. */
export function createAllowedIps(cidrs: readonly string[], what: string): (address: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits, extra] = String(cidr).trim().split('/');
    const family = ipFamily(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || extra !== undefined || !/^\d+$/.test(String(prefix)) || prefix > max) {
      throw new Error(`${what}: "${cidr}" is not a CIDR (write 10.0.0.2/32, 10.0.0.0/24 or fd00::/64)`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return (address: string) => {
    const family = ipFamily(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
