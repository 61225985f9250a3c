import { resolveClientAddress } from '../../../lib/core/ip/forwarded-address.js';
import { compileTrustProxy, type CompiledTrust, type TrustProxyOptions } from '../../../lib/core/ip/trust-proxy.js';

type Headers = Record<string, string | string[] | undefined>;

function trustOf(options: TrustProxyOptions): CompiledTrust {
  const { trust, problems } = compileTrustProxy(options);
  if (trust === null) throw new Error(problems.join('\n'));
  return trust;
}

const SPOOFING_HEADERS: Headers = {
  'x-forwarded-for': '198.51.100.1',
  forwarded: 'for=198.51.100.2',
  'x-real-ip': '198.51.100.3',
};

describe('resolveClientAddress', () => {
  describe('without trust', () => {
    it('uses only the socket peer, whatever the headers say', () => {
      expect(resolveClientAddress('203.0.113.5', SPOOFING_HEADERS, null)).toBe('203.0.113.5');
      expect(resolveClientAddress('::ffff:203.0.113.5', SPOOFING_HEADERS, null)).toBe('203.0.113.5');
      expect(resolveClientAddress('2001:DB8:0::7', SPOOFING_HEADERS, null)).toBe('2001:db8::7');
    });

    it('returns null when the peer is missing or not an address', () => {
      expect(resolveClientAddress(undefined, {}, null)).toBeNull();
      expect(resolveClientAddress('', {}, null)).toBeNull();
      expect(resolveClientAddress('garbage', SPOOFING_HEADERS, null)).toBeNull();
      expect(resolveClientAddress(undefined, SPOOFING_HEADERS, trustOf({ proxies: ['loopback'] }))).toBeNull();
      // With a hop count, a connection without a peer (a proxy on a Unix socket) is the first hop.
      expect(resolveClientAddress(undefined, SPOOFING_HEADERS, trustOf({ hops: 1 }))).toBe('198.51.100.1');
    });
  });

  describe('spoofing from an untrusted peer', () => {
    it.each([
      ['x-forwarded-for', { proxies: ['10.0.0.0/8'] }],
      ['forwarded', { proxies: ['10.0.0.0/8'], header: 'forwarded' }],
      ['x-real-ip', { proxies: ['10.0.0.0/8'], header: 'x-real-ip' }],
    ] as const)('ignores %s', (_name, options) => {
      expect(resolveClientAddress('203.0.113.5', SPOOFING_HEADERS, trustOf(options))).toBe('203.0.113.5');
    });

    it('ignores a chain made only of trusted-looking addresses', () => {
      const trust = trustOf({ proxies: ['10.0.0.0/8'] });
      expect(resolveClientAddress('203.0.113.5', { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' }, trust)).toBe('203.0.113.5');
    });
  });

  describe('x-forwarded-for through trusted proxies', () => {
    const trust = trustOf({ proxies: ['10.0.0.0/8'] });

    it('uses the peer when the header is absent or blank', () => {
      expect(resolveClientAddress('10.0.0.1', {}, trust)).toBe('10.0.0.1');
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': '  ' }, trust)).toBe('10.0.0.1');
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': [] }, trust)).toBe('10.0.0.1');
    });

    it('one proxy', () => {
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': '203.0.113.5' }, trust)).toBe('203.0.113.5');
    });

    it('two proxies', () => {
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': '203.0.113.5, 10.0.0.2' }, trust)).toBe('203.0.113.5');
    });

    it('does not use fake entries the client put to the left of its real address', () => {
      const headers = { 'x-forwarded-for': '1.1.1.1, 10.9.9.9, 8.8.8.8, 203.0.113.5, 10.0.0.2' };
      expect(resolveClientAddress('10.0.0.1', headers, trust)).toBe('203.0.113.5');
    });

    it('gives the leftmost address when every hop is trusted', () => {
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': '10.0.0.3,10.0.0.2' }, trust)).toBe('10.0.0.3');
    });

    it("gives no address when a trusted hop forwarded an entry that is no address, never the proxy's own", () => {
      const at = (xff: string) => resolveClientAddress('10.0.0.1', { 'x-forwarded-for': xff }, trust);
      expect(at('203.0.113.5, garbage, 10.0.0.2')).toBeNull();
      expect(at('203.0.113.5, , 10.0.0.2')).toBeNull();
      expect(at('203.0.113.5,')).toBeNull();
      expect(at('unknown')).toBeNull();
      expect(at('203.0.113.5, 10.0.0.2:8080, [10.0.0.3]')).toBeNull();
      // The deprecated IPv4-compatible form is no address either.
      expect(at('::203.0.113.5')).toBeNull();
      expect(at('203.0.113.5, ::10.0.0.2')).toBeNull();
      // An entry left of the first untrusted hop is the client's own business.
      expect(at('garbage, 203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
    });

    it('accepts ports and mapped addresses in entries', () => {
      const headers = { 'x-forwarded-for': '203.0.113.5:41234, ::ffff:10.0.0.2' };
      expect(resolveClientAddress('10.0.0.1', headers, trust)).toBe('203.0.113.5');
    });

    it('joins repeated header instances in order', () => {
      const headers = { 'x-forwarded-for': ['198.51.100.1, 203.0.113.5', '10.0.0.3, 10.0.0.2'] };
      expect(resolveClientAddress('10.0.0.1', headers, trust)).toBe('203.0.113.5');
    });

    it('matches an IPv4-mapped socket peer against an IPv4 range', () => {
      const loopback = trustOf({ proxies: ['127.0.0.1/8'] });
      expect(resolveClientAddress('::ffff:127.0.0.1', { 'x-forwarded-for': '203.0.113.5' }, loopback)).toBe('203.0.113.5');
      expect(resolveClientAddress('::ffff:127.0.0.1', {}, loopback)).toBe('127.0.0.1');
    });

    it('handles IPv6 proxies and clients', () => {
      const v6 = trustOf({ proxies: ['2001:db8:ffff::/48', '::1'] });
      const headers = { 'x-forwarded-for': '2001:DB8:1:2:0:0:0:9, 2001:db8:ffff::2' };
      expect(resolveClientAddress('::1', headers, v6)).toBe('2001:db8:1:2::9');
      expect(resolveClientAddress('2001:db8:ffff::1', { 'x-forwarded-for': '203.0.113.5' }, v6)).toBe('203.0.113.5');
      expect(resolveClientAddress('2001:db8:fffe::1', { 'x-forwarded-for': '203.0.113.5' }, v6)).toBe('2001:db8:fffe::1');
    });
  });

  describe('hop counts', () => {
    const chain = { 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 192.0.2.2, 192.0.2.1' };
    it.each([
      [1, '192.0.2.1'],
      [2, '192.0.2.2'],
      [3, '203.0.113.5'],
      [4, '198.51.100.1'],
      [5, '198.51.100.1'],
      [32, '198.51.100.1'],
    ])('hops %i', (hops, expected) => {
      expect(resolveClientAddress('192.0.2.100', chain, trustOf({ hops }))).toBe(expected);
    });

    it('uses the peer when there is no header', () => {
      expect(resolveClientAddress('192.0.2.100', {}, trustOf({ hops: 2 }))).toBe('192.0.2.100');
    });

    it('gives no address for a malformed entry within the trusted hops', () => {
      const headers = { 'x-forwarded-for': '198.51.100.1, nonsense, 192.0.2.1' };
      expect(resolveClientAddress('192.0.2.100', headers, trustOf({ hops: 3 }))).toBeNull();
      expect(resolveClientAddress('192.0.2.100', headers, trustOf({ hops: 1 }))).toBe('192.0.2.1');
    });

    it('takes a connection without a peer address (a proxy on a Unix socket) as the first hop', () => {
      expect(resolveClientAddress(undefined, chain, trustOf({ hops: 1 }))).toBe('192.0.2.1');
      expect(resolveClientAddress(undefined, chain, trustOf({ hops: 2 }))).toBe('192.0.2.2');
      expect(resolveClientAddress(undefined, { 'x-real-ip': '203.0.113.5' }, trustOf({ hops: 1, header: 'x-real-ip' }))).toBe('203.0.113.5');
      expect(resolveClientAddress(undefined, {}, trustOf({ hops: 1 }))).toBeNull();
      expect(resolveClientAddress(undefined, chain, trustOf({ proxies: ['loopback'] }))).toBeNull();
    });
  });

  describe('forwarded (RFC 7239)', () => {
    const trust = trustOf({ proxies: ['10.0.0.0/8', 'fd00::/8'], header: 'forwarded' });
    const at = (forwarded: string | string[], peer = '10.0.0.1') => resolveClientAddress(peer, { forwarded }, trust);

    it('reads for= parameters, quoted or not, with ports and brackets', () => {
      expect(at('for=203.0.113.5')).toBe('203.0.113.5');
      expect(at('for="203.0.113.5:4711"')).toBe('203.0.113.5');
      expect(at('for="[2001:db8:cafe::17]:4711"')).toBe('2001:db8:cafe::17');
      expect(at('For="[2001:db8:cafe::17]"')).toBe('2001:db8:cafe::17');
      expect(at('proto=https;for=203.0.113.5;by=10.0.0.1;host="example.com"')).toBe('203.0.113.5');
      expect(at('for = 203.0.113.5 ; proto=http')).toBe('203.0.113.5');
    });

    it('walks the chain like x-forwarded-for', () => {
      expect(at('for=198.51.100.1, for=203.0.113.5;proto=https, for="[fd00::2]:80"')).toBe('203.0.113.5');
      expect(at('for=10.0.0.3, for=10.0.0.2')).toBe('10.0.0.3');
      expect(at(['for=198.51.100.1, for=203.0.113.5', 'for=10.0.0.2'])).toBe('203.0.113.5');
    });

    it('does not split on commas or semicolons inside quoted strings', () => {
      expect(at('for=198.51.100.1, for=203.0.113.5;host="a,b;c", for=10.0.0.2')).toBe('203.0.113.5');
      expect(at('for=203.0.113.5;ext="x\\",y", for=10.0.0.2')).toBe('203.0.113.5');
    });

    it("gives no address for an obfuscated or unknown node named by a trusted proxy, never the proxy's own", () => {
      expect(at('for=203.0.113.5, for=_hidden, for=10.0.0.2')).toBeNull();
      expect(at('for=203.0.113.5, for=unknown')).toBeNull();
      expect(at('for="_gazonk"')).toBeNull();
      expect(at('for="[::203.0.113.5]"')).toBeNull();
      expect(at('for=unknown', 'fd00::1')).toBeNull();
    });

    it('gives no address for a malformed element from a trusted proxy', () => {
      expect(at('proto=https')).toBeNull();
      expect(at('for=203.0.113.5;for=198.51.100.1')).toBeNull();
      expect(at('for="203.0.113.5')).toBeNull();
      expect(at('for=203.0.113.5;garbage')).toBeNull();
      expect(at('for=')).toBeNull();
    });

    it('ignores the header from an untrusted peer', () => {
      expect(at('for=198.51.100.1', '203.0.113.5')).toBe('203.0.113.5');
    });
  });

  describe('x-real-ip', () => {
    const trust = trustOf({ proxies: ['loopback'], header: 'x-real-ip' });
    const at = (value: string | string[] | undefined, peer = '127.0.0.1') =>
      resolveClientAddress(peer, { 'x-real-ip': value, 'x-forwarded-for': '198.51.100.9' }, trust);

    it('uses the header when the peer is trusted', () => {
      expect(at('203.0.113.5')).toBe('203.0.113.5');
      expect(at('2001:db8::5')).toBe('2001:db8::5');
      expect(at('203.0.113.5', '::1')).toBe('203.0.113.5');
    });

    it('uses the peer when the header is missing (the proxy itself calling)', () => {
      expect(at(undefined)).toBe('127.0.0.1');
    });

    it("gives no address for an invalid or duplicated header from a trusted proxy, never the proxy's own", () => {
      expect(at('nonsense')).toBeNull();
      expect(at('203.0.113.5, 198.51.100.1')).toBeNull();
      expect(at(['203.0.113.5', '198.51.100.1'])).toBeNull();
      expect(at('::203.0.113.5')).toBeNull();
    });

    it('ignores the header from an untrusted peer', () => {
      expect(at('198.51.100.1', '203.0.113.5')).toBe('203.0.113.5');
    });

    it('works with one hop', () => {
      const hop = trustOf({ hops: 1, header: 'x-real-ip' });
      expect(resolveClientAddress('192.0.2.1', { 'x-real-ip': '203.0.113.5' }, hop)).toBe('203.0.113.5');
    });
  });

  describe('hostile input stays cheap', () => {
    it('examines at most 32 hops of a 1000-hop header', () => {
      const trust = trustOf({ proxies: ['10.0.0.0/8'] });
      const hops = Array.from({ length: 1000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`);
      const headers = { 'x-forwarded-for': ['203.0.113.5', ...hops].join(', ') };
      const start = process.hrtime.bigint();
      let result: string | null = null;
      for (let i = 0; i < 1000; i++) result = resolveClientAddress('10.0.0.1', headers, trust);
      const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
      // Every hop is trusted, so the walk ends at the 32nd entry from the right, not at the client.
      expect(result).toBe(hops[hops.length - 32]);
      expect(elapsedMs).toBeLessThan(1000);
    });

    it('only looks at the rightmost 8 KiB of a header', () => {
      const trust = trustOf({ proxies: ['10.0.0.0/8'] });
      const padding = 'x'.repeat(20_000);
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': `${padding}, 203.0.113.5` }, trust)).toBe('203.0.113.5');
      // A single huge entry is cut by the limit and names no address.
      expect(resolveClientAddress('10.0.0.1', { 'x-forwarded-for': `${padding}203.0.113.5` }, trust)).toBeNull();
    });

    it('handles a 1000-element Forwarded header with unbalanced quotes', () => {
      const trust = trustOf({ proxies: ['10.0.0.0/8'], header: 'forwarded' });
      const junk = Array.from({ length: 1000 }, () => 'for="10.0.0.9').join(', ');
      const headers = { forwarded: `${junk}, for=203.0.113.5, for=10.0.0.2` };
      expect(resolveClientAddress('10.0.0.1', headers, trust)).toBe('203.0.113.5');
    });
  });
});
