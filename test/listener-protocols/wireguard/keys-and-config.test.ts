import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WireGuardEngine, decodeKey, generatePresharedKey, generatePrivateKey, isKey, publicKeyOf } from '../../../listener-protocols/wireguard/index.js';

const wg = (args: string[], input?: string) => execFileSync('wg', args, { input, encoding: 'utf8' }).trim();

describe('WireGuard keys and engine configuration', () => {
  it('derives the same public key as `wg pubkey`, and `wg` accepts the keys we generate', () => {
    const fromWg = wg(['genkey']);
    expect(publicKeyOf(fromWg)).toBe(wg(['pubkey'], fromWg));
    const ours = generatePrivateKey();
    expect(publicKeyOf(ours)).toBe(wg(['pubkey'], ours));
    expect(isKey(generatePresharedKey())).toBe(true);
  });

  it('names what is wrong with a key', () => {
    expect(() => decodeKey('abc', 'peers[0].publicKey')).toThrow('peers[0].publicKey is not a WireGuard key');
    expect(() => decodeKey(Buffer.alloc(31).toString('base64'), 'privateKey')).toThrow('privateKey is not a WireGuard key');
  });

  it('refuses bad CIDRs, duplicate peers, its own key and low-order peer keys with a clear error', () => {
    const privateKey = generatePrivateKey();
    const peer = publicKeyOf(generatePrivateKey());
    expect(() => new WireGuardEngine({ privateKey, peers: [{ publicKey: peer, allowedIPs: ['10.0.0.0/33'] }] })).toThrow('peers[0].allowedIPs: "10.0.0.0/33" is not a CIDR');
    expect(() => new WireGuardEngine({ privateKey, peers: [{ publicKey: peer, allowedIPs: [] }, { publicKey: peer, allowedIPs: [], name: 'twin' }] })).toThrow('peers[1] (twin).publicKey appears twice');
    expect(() => new WireGuardEngine({ privateKey, peers: [{ publicKey: publicKeyOf(privateKey), allowedIPs: [] }] })).toThrow("the listener's own key");
    expect(() => new WireGuardEngine({ privateKey, peers: [{ publicKey: Buffer.alloc(32).toString('base64'), allowedIPs: [] }] })).toThrow('low-order');
  });
});
