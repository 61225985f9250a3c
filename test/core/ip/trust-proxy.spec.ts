import { parseAddress } from '../../../lib/core/ip/client-address.js';
import { compileTrustProxy, type CompiledTrust, type TrustProxyOptions } from '../../../lib/core/ip/trust-proxy.js';

function compiled(options: TrustProxyOptions): CompiledTrust {
  const { trust, problems } = compileTrustProxy(options);
  expect(problems).toEqual([]);
  expect(trust).not.toBeNull();
  return trust!;
}

function trusts(trust: CompiledTrust, address: string): boolean {
  const parsed = parseAddress(address);
  if (parsed === null) throw new Error(`bad test address ${address}`);
  return trust.isTrustedProxy(parsed);
}

/** Compiles a configuration that must fail; returns its problems. */
function problemsOf(options: unknown): string[] {
  const { trust, problems } = compileTrustProxy(options as TrustProxyOptions);
  expect(trust).toBeNull();
  expect(problems.length).toBeGreaterThan(0);
  return problems;
}

describe('compileTrustProxy', () => {
  it('returns no trust and no problems when disabled', () => {
    expect(compileTrustProxy(undefined)).toEqual({ trust: null, problems: [] });
    expect(compileTrustProxy(false)).toEqual({ trust: null, problems: [] });
  });

  it('compiles addresses and CIDR ranges of both families', () => {
    const trust = compiled({ proxies: ['10.0.0.0/8', '192.0.2.7', '2001:db8:aa::/48', '2001:db8::1'] });
    expect(trust.header).toBe('x-forwarded-for');
    expect(trust.hops).toBeNull();
    expect(trust.ranges).toEqual(['10.0.0.0/8', '192.0.2.7/32', '2001:db8:aa::/48', '2001:db8::1/128']);
    expect(trusts(trust, '10.255.1.2')).toBe(true);
    expect(trusts(trust, '11.0.0.1')).toBe(false);
    expect(trusts(trust, '192.0.2.7')).toBe(true);
    expect(trusts(trust, '192.0.2.8')).toBe(false);
    expect(trusts(trust, '2001:db8:aa:ffff::9')).toBe(true);
    expect(trusts(trust, '2001:db8:ab::9')).toBe(false);
    expect(trusts(trust, '2001:db8::1')).toBe(true);
    expect(trusts(trust, '2001:db8::2')).toBe(false);
  });

  it('matches IPv4-mapped addresses against IPv4 ranges, and mapped ranges against IPv4', () => {
    const trust = compiled({ proxies: ['127.0.0.1/8', '::ffff:10.1.0.0/112'] });
    expect(trust.ranges).toEqual(['127.0.0.1/8', '10.1.0.0/16']);
    expect(trusts(trust, '::ffff:127.0.0.1')).toBe(true);
    expect(trusts(trust, '127.9.9.9')).toBe(true);
    expect(trusts(trust, '10.1.200.3')).toBe(true);
    expect(trusts(trust, '::ffff:10.1.200.3')).toBe(true);
    expect(trusts(trust, '10.2.0.1')).toBe(false);
  });

  it('expands named ranges, case-insensitively', () => {
    const loopback = compiled({ proxies: ['loopback'] });
    expect(trusts(loopback, '127.0.0.1')).toBe(true);
    expect(trusts(loopback, '::1')).toBe(true);
    expect(trusts(loopback, '10.0.0.1')).toBe(false);

    const linklocal = compiled({ proxies: ['LinkLocal'] });
    expect(trusts(linklocal, '169.254.3.4')).toBe(true);
    expect(trusts(linklocal, 'fe80::1%eth0')).toBe(true);
    expect(trusts(linklocal, '127.0.0.1')).toBe(false);

    const uniquelocal = compiled({ proxies: ['uniquelocal'] });
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fd12::1']) {
      expect(trusts(uniquelocal, a)).toBe(true);
    }
    for (const a of ['172.32.0.1', '8.8.8.8', '2001:db8::1', '127.0.0.1']) {
      expect(trusts(uniquelocal, a)).toBe(false);
    }

    const priv = compiled({ proxies: ['private'] });
    for (const a of ['127.0.0.1', '::1', '169.254.1.1', 'fe80::2', '10.0.0.1', '192.168.0.1', 'fc00::1']) {
      expect(trusts(priv, a)).toBe(true);
    }
    expect(trusts(priv, '203.0.113.9')).toBe(false);
    expect(trusts(priv, '2001:db8::9')).toBe(false);
  });

  it('compiles hop counts; no address is a trusted proxy in that mode', () => {
    const trust = compiled({ hops: 2, header: 'forwarded' });
    expect(trust.hops).toBe(2);
    expect(trust.header).toBe('forwarded');
    expect(trust.ranges).toEqual([]);
    expect(trusts(trust, '127.0.0.1')).toBe(false);
  });

  it('accepts the header in any case', () => {
    expect(compiled({ proxies: ['loopback'], header: 'X-Real-IP' as 'x-real-ip' }).header).toBe('x-real-ip');
  });

  it('returns a frozen configuration', () => {
    const trust = compiled({ proxies: ['loopback'] });
    expect(Object.isFrozen(trust)).toBe(true);
    expect(Object.isFrozen(trust.ranges)).toBe(true);
  });

  describe('problems', () => {
    it.each([[true], ['true'], ['*'], ['all']])('rejects permissive setting %j', (value) => {
      const [problem] = problemsOf(value);
      expect(problem).toMatch(/any client/);
      expect(problem).toMatch(/proxies: \['10\.0\.0\.0\/8'\]/);
      expect(problem).toMatch(/hops: 1/);
    });

    it.each([['0.0.0.0/0'], ['::/0'], ['::ffff:0.0.0.0/96']])('rejects the catch-all range %j', (range) => {
      expect(problemsOf({ proxies: [range] })).toEqual([expect.stringMatching(/matches every address/)]);
    });

    it('points other non-object settings at the right shape', () => {
      expect(problemsOf(['10.0.0.1'])[0]).toMatch(/\{ proxies: \[\.\.\.\] \}/);
      expect(problemsOf(2)[0]).toMatch(/\{ hops: 2 \}/);
      expect(problemsOf('loopback')[0]).toMatch(/\{ proxies: \['loopback'\] \}/);
    });

    it.each([
      ['10.0.0.256'],
      ['10.0.0.0/33'],
      ['2001:db8::/129'],
      ['10.0.0.0/'],
      ['10.0.0.0/8/8'],
      ['10.0.0.0/-1'],
      ['10.0.0.0/255.0.0.0'],
      ['example.com'],
      ['10.0.0.1:80'],
      ['[::1]'],
      ['fe80::1%eth0'],
      ['::ffff:10.0.0.0/64'],
      [''],
    ])('reports the invalid entry %j with its index and how to write one', (entry) => {
      const problems = problemsOf({ proxies: ['127.0.0.1', entry] });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('trustProxy.proxies[1]');
      expect(problems[0]).toMatch(/'10\.0\.0\.0\/8'/);
    });

    it("suggests 'loopback' and explicit ranges, never 'private' (every RFC 1918 peer a proxy)", () => {
      const [problem] = problemsOf({ proxies: ['proxy.internal'] });
      expect(problem).toMatch(/'loopback'/);
      expect(problem).toMatch(/'10\.0\.0\.0\/8'/);
      expect(problem).not.toMatch(/private/);
    });

    it('reports every invalid entry, not just the first', () => {
      expect(problemsOf({ proxies: ['nope', '10.0.0.1', 'also-nope', 7] })).toHaveLength(3);
    });

    it('rejects proxies together with hops', () => {
      expect(problemsOf({ proxies: ['loopback'], hops: 1 })).toEqual([expect.stringMatching(/only one/)]);
    });

    it('rejects a configuration that names no proxies', () => {
      expect(problemsOf({})[0]).toMatch(/false/);
      expect(problemsOf({ header: 'forwarded' })).toHaveLength(1);
      expect(problemsOf({ proxies: [] })[0]).toMatch(/empty/);
    });

    it('rejects proxies that are not an array', () => {
      expect(problemsOf({ proxies: '10.0.0.1' })[0]).toMatch(/must be an array/);
    });

    it.each([[0], [-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], ['1'], [true]])('rejects hops %j', (hops) => {
      expect(problemsOf({ hops })).toEqual([expect.stringMatching(/hops must be a positive integer/)]);
    });

    it('rejects more hops than are examined', () => {
      expect(problemsOf({ hops: 33 })[0]).toMatch(/at most 32/);
      expect(compileTrustProxy({ hops: 32 }).problems).toEqual([]);
    });

    it('rejects an unknown header', () => {
      expect(problemsOf({ proxies: ['loopback'], header: 'x-client-ip' })[0]).toMatch(/'x-forwarded-for', 'forwarded' or 'x-real-ip'/);
    });

    it('rejects more than one hop with x-real-ip', () => {
      expect(problemsOf({ hops: 2, header: 'x-real-ip' })[0]).toMatch(/hops must be 1/);
      expect(compileTrustProxy({ hops: 1, header: 'x-real-ip' }).problems).toEqual([]);
    });

    it('rejects misspelt option names', () => {
      expect(problemsOf({ proxy: ['loopback'], proxies: ['loopback'] })).toEqual([expect.stringMatching(/trustProxy\.proxy is not an option/)]);
    });

    it('gathers every problem at once and uses the given option name', () => {
      const { trust, problems } = compileTrustProxy({ proxies: ['bad'], hops: 0, header: 'nope' } as unknown as TrustProxyOptions, 'rampart.trustProxy');
      expect(trust).toBeNull();
      expect(problems).toHaveLength(4);
      for (const p of problems) expect(p).toContain('rampart.trustProxy');
    });
  });
});
