/** CIDR matching and the listener's address stage (allow, deny) on values, IPv4-mapped clients included. */
import { describe, expect, it } from 'vitest';
import { checkCidr, createCidrMatcher } from '../../gateway/cidr.js';
import { createAddressStage } from '../../gateway/listener.js';

describe('createCidrMatcher', () => {
  it('matches IPv4 subnets and single addresses, and IPv6 subnets', () => {
    const m = createCidrMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    expect(['10.255.0.1', '11.0.0.1', '192.0.2.7', '192.0.2.8', '2001:db8::5', '2001:db9::5'].map(m)).toEqual([true, false, true, false, true, false]);
  });

  it('an IPv4-mapped IPv6 client (a dual-stack socket) matches IPv4 rules, in either spelling', () => {
    const m = createCidrMatcher(['10.0.0.0/8']);
    // ::ffff:a01:203 is ::ffff:10.1.2.3 written in hex: node:net BlockList compares the address, not the text.
    expect(['::ffff:10.1.2.3', '::ffff:11.1.2.3', '::ffff:a01:203'].map(m)).toEqual([true, false, true]);
  });

  it('no rules match nothing', () => {
    expect(createCidrMatcher([])('10.0.0.1')).toBe(false);
  });
});

describe('checkCidr', () => {
  it('accepts addresses and prefixes in range, names what is wrong otherwise', () => {
    expect([checkCidr('10.0.0.0/8'), checkCidr('10.0.0.1'), checkCidr('::/0'), checkCidr('::/128'), checkCidr('1.2.3.4/32')]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(checkCidr('1.2.3.4/33')).toMatch(/invalid prefix length: use 0..32/);
    expect(checkCidr('::/129')).toMatch(/invalid prefix length: use 0..128/);
    expect(checkCidr('1.2.3.4/x')).toMatch(/invalid prefix length/);
    expect(checkCidr('1.2.3.4/8x')).toMatch(/invalid prefix length/);
    expect(checkCidr('1.2.3.4/x8')).toMatch(/invalid prefix length/);
    expect(checkCidr('1.2.3.4/8/1')).toMatch(/is not a CIDR/);
    expect(checkCidr('/8')).toMatch(/is not a CIDR/);
    expect(checkCidr('host/8')).toMatch(/does not start with an IPv4 or IPv6 address/);
  });
});

describe('listener address stage', () => {
  it('allow: clients outside the list are dropped as not-allowed', () => {
    const stage = createAddressStage(['10.0.0.0/8'], undefined);
    expect(['10.0.0.1', '192.0.2.1'].map(stage)).toEqual([undefined, 'not-allowed']);
  });

  it('deny wins over allow', () => {
    const stage = createAddressStage(['10.0.0.0/8'], ['10.9.0.0/16']);
    expect(['10.1.0.1', '10.9.0.1'].map(stage)).toEqual([undefined, 'denied']);
  });

  it('on a dual-stack listener, IPv4 rules apply to ::ffff: clients (no deny bypass)', () => {
    expect(createAddressStage(undefined, ['203.0.113.0/24'])('::ffff:203.0.113.9')).toBe('denied');
    expect(createAddressStage(['203.0.113.0/24'], undefined)('::ffff:198.51.100.1')).toBe('not-allowed');
  });

  it('an empty allow list allows everyone not denied', () => {
    expect(createAddressStage([], [])('192.0.2.1')).toBeUndefined();
  });
});
