/**
 * Properties of client-address resolution: whatever a client puts in the socket address or the
 * forwarded headers, nothing throws, the result is a canonical address (or null), and a client can
 * only influence the result through hops the configuration trusts.
 */
import fc from 'fast-check';

import { MAX_FORWARDED_HEADER_LENGTH, normalizeAddress } from '../../lib/core/ip/client-address.js';
import { resolveClientAddress } from '../../lib/core/ip/forwarded-address.js';
import { clientKeyForAddress } from '../../lib/core/ip/client-key.js';
import { compileTrustProxy, type CompiledTrust } from '../../lib/core/ip/trust-proxy.js';
import { anyText, fuzzParams } from './fuzz-settings.js';

/** The longest canonical address: eight full IPv6 groups. */
const MAX_CANONICAL = 39;

function trust(options: Parameters<typeof compileTrustProxy>[0]): CompiledTrust {
  const { trust: compiled, problems } = compileTrustProxy(options);
  if (compiled === null) throw new Error(problems.join(' '));
  return compiled;
}

const ipv4 = fc.ipV4();
/** fc.ipV6 also writes the deprecated IPv4-compatible form (::a.b.c.d), which is refused by design. */
const ipv6 = fc.ipV6().filter((a) => normalizeAddress(a) !== null);

/** An address in one of the written forms seen in sockets and headers. */
const decoratedAddress: fc.Arbitrary<string> = fc.oneof(
  ipv4,
  ipv6,
  ipv6.map((a) => a.toUpperCase()),
  ipv4.map((a) => `::ffff:${a}`),
  ipv4.map((a) => `::FFFF:${a}`),
  fc.tuple(ipv4, fc.integer({ min: 0, max: 70_000 })).map(([a, p]) => `${a}:${p}`),
  fc.tuple(ipv6, fc.integer({ min: 0, max: 70_000 })).map(([a, p]) => `[${a}]:${p}`),
  ipv6.map((a) => `[${a}]`),
  fc.tuple(ipv6, fc.stringMatching(/^[0-9A-Za-z._~-]{1,8}$/)).map(([a, z]) => `${a}%${z}`),
  fc.tuple(ipv6, anyText(8)).map(([a, z]) => `${a}%${z}`),
  fc.tuple(fc.constantFrom(' ', '\t', '  ', '\n'), ipv4, fc.constantFrom(' ', '\t', '')).map(([l, a, r]) => `${l}${a}${r}`),
  fc.ipV4Extended(),
  fc.tuple(ipv4, anyText(4)).map(([a, junk]) => `${a}${junk}`),
  fc.tuple(anyText(4), ipv6).map(([junk, a]) => `${junk}${a}`),
);

/** Anything at all a socket or a header could carry for one address. */
const rawAddress: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: decoratedAddress },
  { weight: 2, arbitrary: anyText(64) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '[]',
      '[',
      ']',
      ':',
      '::',
      '[::]:',
      '%',
      'unknown',
      '_hidden',
      '0',
      '1.2.3',
      '01.2.3.4',
      '0x7f.0.0.1',
      '::1.2.3.4',
      '[1.2.3.4]',
      '1.2.3.4%eth0',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 101, max: 20_000 }).map((n) => '1'.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(ipv6, fc.integer({ min: 60, max: 5_000 })).map(([a, n]) => `${a}%${'z'.repeat(n)}`) },
);

/** One forwarded-header element: an address form, or any text. */
const hop = rawAddress;

/** A header value: one string or repeated instances, with up to thousands of hops. */
const headerValue: fc.Arbitrary<string | string[] | undefined> = fc.oneof(
  fc.constant(undefined),
  anyText(200),
  fc.array(hop, { maxLength: 40 }).map((hops) => hops.join(',')),
  fc.array(hop, { maxLength: 3_000 }).map((hops) => hops.join(', ')),
  fc.array(
    fc.array(hop, { maxLength: 10 }).map((h) => h.join(',')),
    { maxLength: 20 },
  ),
  fc.array(hop, { maxLength: 20 }).map((hops) => hops.map((h) => `for=${h}`).join(', ')),
  fc.array(hop, { maxLength: 20 }).map((hops) => hops.map((h) => `for="${h}";proto=https`).join(',')),
);

const headers = fc.record(
  {
    'x-forwarded-for': headerValue,
    forwarded: headerValue,
    'x-real-ip': headerValue,
  },
  { requiredKeys: [] },
);

const trusts: CompiledTrust[] = [
  trust({ proxies: ['loopback'] }),
  trust({ proxies: ['loopback'], header: 'forwarded' }),
  trust({ proxies: ['loopback'], header: 'x-real-ip' }),
  trust({ proxies: ['private'] }),
  trust({ proxies: ['10.0.0.0/8', '2001:db8:ffff::/48', '::ffff:192.168.0.0/112'] }),
  trust({ hops: 1 }),
  trust({ hops: 3, header: 'forwarded' }),
  trust({ hops: 32 }),
  trust({ hops: 1, header: 'x-real-ip' }),
];
const anyTrust = fc.option(fc.constantFrom(...trusts), { nil: null });

function expectCanonical(value: string | null): void {
  if (value === null) return;
  expect(typeof value).toBe('string');
  expect(value.length).toBeLessThanOrEqual(MAX_CANONICAL);
  expect(normalizeAddress(value)).toBe(value);
}

describe('client address (property-based)', () => {
  it('normalizeAddress never throws and returns null or a canonical, idempotent, bounded address', () => {
    fc.assert(
      fc.property(rawAddress, (raw) => {
        expectCanonical(normalizeAddress(raw));
      }),
      fuzzParams(300),
    );
  });

  it('normalizeAddress accepts every decorated form of a valid address and agrees with the bare form', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), fc.integer({ min: 1, max: 65_535 }), (address, port) => {
        const bare = normalizeAddress(address);
        expect(bare).not.toBeNull();
        expectCanonical(bare);
        const forms = address.includes(':')
          ? [`[${address}]`, `[${address}]:${port}`, `${address}%eth0`, ` ${address.toUpperCase()} `]
          : [`${address}:${port}`, `::ffff:${address}`, `[::ffff:${address}]:${port}`, `\t${address}\n`];
        for (const form of forms) expect(normalizeAddress(form)).toBe(bare);
      }),
      fuzzParams(300),
    );
  });

  it('resolveClientAddress never throws and returns null or a canonical address, for any trust and headers', () => {
    fc.assert(
      fc.property(fc.option(rawAddress, { nil: undefined }), headers, anyTrust, (peer, hdrs, compiled) => {
        const result = resolveClientAddress(peer, hdrs, compiled);
        expectCanonical(result);
        // Null when the peer is not an address (a hop count takes a missing peer for a proxy); without
        // trust, exactly then. With trust, a trusted hop that names no address also gives null.
        const peerless = peer === undefined || normalizeAddress(peer) === null;
        if (peerless && !(peer === undefined && compiled?.hops != null)) expect(result).toBeNull();
        if (compiled === null) expect(result === null).toBe(peerless);
      }),
      fuzzParams(300),
    );
  });

  it('with no trust, the result is the normalized peer whatever the headers say', () => {
    fc.assert(
      fc.property(rawAddress, headers, (peer, hdrs) => {
        expect(resolveClientAddress(peer, hdrs, null)).toBe(normalizeAddress(peer));
      }),
      fuzzParams(300),
    );
  });

  /** An untrusted client address: a documentation or public address, never loopback. */
  const untrusted = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `203.0.${a}.${b}`),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => `2001:db8::${a.toString(16)}:${b.toString(16)}`),
  );
  /** An untrusted address as a proxy may write it: with a port, brackets or surrounding spaces. */
  const writtenUntrusted = fc
    .tuple(untrusted, fc.integer({ min: 1, max: 65_535 }), fc.constantFrom('bare', 'port', 'spaces', 'mapped'))
    .map(([a, port, form]) => {
      const v6 = a.includes(':');
      const text = form === 'port' ? (v6 ? `[${a}]:${port}` : `${a}:${port}`) : form === 'spaces' ? ` ${a}\t` : form === 'mapped' && !v6 ? `::ffff:${a}` : a;
      return [a, text] as const;
    });
  const loopback = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 })).map(([a, b]) => `127.0.${a}.${b}`),
    fc.constantFrom('::1', '[::1]:8080', '127.0.0.1:3000', '::ffff:127.0.0.1'),
  );
  /** Whatever the client wrote before the hops appended by the proxies: one string or several. */
  const clientPrefix = fc.oneof(
    anyText(300),
    fc.array(hop, { maxLength: 3_000 }).map((h) => h.join(',')),
    fc.array(fc.oneof(hop, loopback), { maxLength: 50 }).map((h) => h.join(', ')),
    fc.integer({ min: 1, max: 3 * MAX_FORWARDED_HEADER_LENGTH }).map((n) => `${'"'.repeat(n % 2)}${'x,'.repeat(n)}`),
  );

  it('with trusted loopback proxies (x-forwarded-for), a client-supplied prefix never changes the result', () => {
    const xff = trust({ proxies: ['loopback'] });
    fc.assert(
      fc.property(
        clientPrefix,
        fc.boolean(),
        writtenUntrusted,
        fc.array(loopback, { maxLength: 5 }),
        loopback,
        (prefix, asArray, [client, written], proxies, peer) => {
          const suffix = [written, ...proxies];
          const value = asArray ? [prefix, suffix.join(',')] : `${prefix},${suffix.join(', ')}`;
          const result = resolveClientAddress(peer, { 'x-forwarded-for': value }, xff);
          expect(result).toBe(normalizeAddress(client));
        },
      ),
      fuzzParams(200),
    );
  });

  it('with trusted loopback proxies (forwarded), a client-supplied prefix never changes the result', () => {
    const fwd = trust({ proxies: ['loopback'], header: 'forwarded' });
    const element = (address: string) => (address.includes(':') ? `for="[${address}]:443";proto=https` : `for=${address}`);
    fc.assert(
      fc.property(
        clientPrefix,
        fc.boolean(),
        untrusted,
        fc.array(fc.constantFrom('127.0.0.1', '::1', '127.1.2.3'), { maxLength: 5 }),
        loopback,
        (prefix, asArray, client, proxies, peer) => {
          const suffix = [client, ...proxies].map(element).join(', ');
          const value = asArray ? [prefix, suffix] : `${prefix}, ${suffix}`;
          const result = resolveClientAddress(peer, { forwarded: value }, fwd);
          expect(result).toBe(normalizeAddress(client));
        },
      ),
      fuzzParams(200),
    );
  });

  it('with trusted proxies, a request straight from an untrusted peer is that peer, whatever its headers', () => {
    const byAddress = trusts.filter((t) => t.hops === null);
    fc.assert(
      fc.property(untrusted, headers, fc.constantFrom(...byAddress), (peer, hdrs, compiled) => {
        expect(resolveClientAddress(peer, hdrs, compiled)).toBe(normalizeAddress(peer));
      }),
      fuzzParams(300),
    );
  });

  it('in hop-count mode, hops beyond the trusted count never change the result', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        clientPrefix,
        fc.array(fc.oneof(ipv4, ipv6), { minLength: 5, maxLength: 5 }),
        fc.oneof(ipv4, loopback),
        (hops, prefix, chain, peer) => {
          const compiled = trust({ hops });
          const result = resolveClientAddress(peer, { 'x-forwarded-for': `${prefix},${chain.join(',')}` }, compiled);
          expect(result).toBe(normalizeAddress(chain[chain.length - hops]!));
        },
      ),
      fuzzParams(200),
    );
  });

  it('x-real-ip is believed only from a trusted peer', () => {
    const realIp = trust({ proxies: ['loopback'], header: 'x-real-ip' });
    fc.assert(
      fc.property(untrusted, fc.oneof(hop, untrusted), (peer, claimed) => {
        expect(resolveClientAddress(peer, { 'x-real-ip': claimed }, realIp)).toBe(normalizeAddress(peer));
      }),
      fuzzParams(200),
    );
  });

  it('clientKeyForAddress: bounded, idempotent keys for every canonical address and prefix length', () => {
    fc.assert(
      fc.property(decoratedAddress, fc.integer({ min: 1, max: 128 }), (raw, prefix) => {
        const address = normalizeAddress(raw);
        if (address === null) {
          expect(() => clientKeyForAddress(raw, prefix)).toThrow(TypeError);
          return;
        }
        const key = clientKeyForAddress(address, prefix);
        expect(key.length).toBeLessThanOrEqual(MAX_CANONICAL + 4);
        expect(clientKeyForAddress(raw, prefix)).toBe(key);
        if (!address.includes(':')) {
          expect(key).toBe(address);
          return;
        }
        if (prefix === 128) {
          expect(key).toBe(address);
          return;
        }
        expect(key.endsWith(`/${prefix}`)).toBe(true);
        const network = key.slice(0, key.lastIndexOf('/'));
        expect(normalizeAddress(network)).toBe(network);
        // The network's own key is the same network: masking is idempotent.
        expect(clientKeyForAddress(network, prefix)).toBe(key);
      }),
      fuzzParams(300),
    );
  });

  it('clientKeyForAddress throws only the documented errors', () => {
    fc.assert(
      fc.property(rawAddress, fc.oneof(fc.integer({ min: -5, max: 200 }), fc.double()), (raw, prefix) => {
        try {
          const key = clientKeyForAddress(raw, prefix);
          expect(typeof key).toBe('string');
          expect(key.length).toBeLessThanOrEqual(MAX_CANONICAL + 4);
        } catch (error) {
          expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
        }
      }),
      fuzzParams(300),
    );
  });
});
