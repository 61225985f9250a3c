import { clientKeyForAddress, validateIpv6PrefixLength } from '../../../lib/core/ip/client-key.js';

describe('clientKeyForAddress', () => {
  it('uses IPv4 addresses as they are, whatever the prefix', () => {
    expect(clientKeyForAddress('203.0.113.5', 64)).toBe('203.0.113.5');
    expect(clientKeyForAddress('203.0.113.5', 1)).toBe('203.0.113.5');
    expect(clientKeyForAddress('::ffff:203.0.113.5', 64)).toBe('203.0.113.5');
  });

  it('groups two addresses of one /64 under one key', () => {
    const a = clientKeyForAddress('2001:db8:1:2::1', 64);
    const b = clientKeyForAddress('2001:db8:1:2:ffff:eeee:dddd:cccc', 64);
    expect(a).toBe('2001:db8:1:2::/64');
    expect(b).toBe(a);
  });

  it('gives different /64 networks different keys', () => {
    expect(clientKeyForAddress('2001:db8:1:3::1', 64)).toBe('2001:db8:1:3::/64');
    expect(clientKeyForAddress('2001:db8:1:3::1', 64)).not.toBe(clientKeyForAddress('2001:db8:1:2::1', 64));
  });

  it('groups by /48', () => {
    expect(clientKeyForAddress('2001:db8:1:2::1', 48)).toBe('2001:db8:1::/48');
    expect(clientKeyForAddress('2001:db8:1:ffff::1', 48)).toBe('2001:db8:1::/48');
    expect(clientKeyForAddress('2001:db8:2::1', 48)).toBe('2001:db8:2::/48');
  });

  it('masks inside a group for prefixes that are not multiples of 16', () => {
    expect(clientKeyForAddress('2001:db8:1:2ff::1', 56)).toBe('2001:db8:1:200::/56');
    expect(clientKeyForAddress('ffff::1', 1)).toBe('8000::/1');
    expect(clientKeyForAddress('2001:db8::ffff', 127)).toBe('2001:db8::fffe/127');
  });

  it('gives the plain address for /128', () => {
    expect(clientKeyForAddress('2001:db8:1:2::1', 128)).toBe('2001:db8:1:2::1');
    expect(clientKeyForAddress('2001:DB8:1:2:0:0:0:1', 128)).toBe('2001:db8:1:2::1');
  });

  it('throws for input that is not an address or a prefix outside 1..128', () => {
    expect(() => clientKeyForAddress('nonsense', 64)).toThrow(TypeError);
    expect(() => clientKeyForAddress('2001:db8::1', 0)).toThrow(RangeError);
    expect(() => clientKeyForAddress('2001:db8::1', 129)).toThrow(RangeError);
  });
});

describe('validateIpv6PrefixLength', () => {
  it.each([[1], [48], [64], [128]])('accepts %j', (n) => {
    expect(validateIpv6PrefixLength(n)).toBeNull();
  });

  it.each([[0], [129], [-64], [64.5], [Number.NaN], ['64'], [undefined]])('rejects %j', (n) => {
    expect(validateIpv6PrefixLength(n)).toMatch(/ipv6PrefixLength must be an integer from 1 to 128/);
  });

  it('uses the given option name', () => {
    expect(validateIpv6PrefixLength(0, 'rampart.ipv6Prefix')).toMatch(/^rampart\.ipv6Prefix /);
  });
});
