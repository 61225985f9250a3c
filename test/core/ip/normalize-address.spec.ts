import { clientAddressOf, MAX_ADDRESS_LENGTH, normalizeAddress } from '../../../lib/core/ip/client-address.js';

describe('normalizeAddress', () => {
  it.each([
    // IPv4
    ['192.0.2.1', '192.0.2.1'],
    ['  192.0.2.1\t', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['192.0.2.1:5678', '192.0.2.1'],
    ['192.0.2.1:0', '192.0.2.1'],
    // IPv6: compact RFC 5952 lower-case output
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%25', 'fe80::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[fe80::1%en0]:8080', 'fe80::1'],
    // IPv4-mapped IPv6 becomes IPv4
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['[::ffff:127.0.0.1]:80', '127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.1'],
  ])('%j -> %j', (raw, expected) => {
    expect(normalizeAddress(raw)).toBe(expected);
  });

  it.each([
    [''],
    ['   '],
    ['unknown'],
    ['_hidden'],
    ['localhost'],
    ['example.com'],
    ['256.1.1.1'],
    ['1.2.3'],
    ['1.2.3.4.5'],
    ['127.1'],
    ['0x7f.0.0.1'],
    ['010.0.0.1'],
    ['2130706433'],
    ['1.2.3.4:'],
    ['1.2.3.4:99999'],
    ['1.2.3.4:80a'],
    ['1.2.3.4%eth0'],
    ['[1.2.3.4]'],
    ['[2001:db8::1'],
    ['[2001:db8::1]x'],
    ['[2001:db8::1]:'],
    ['2001:db8::1::2'],
    ['2001:db8:::1'],
    ['1:2:3:4:5:6:7:8:9'],
    ['12345::1'],
    ['gggg::1'],
    ['fe80::1%'],
    ['fe80::1%eth 0'],
    ['::ffff:01.2.3.4'],
    ['::ffff:1.2.3.256'],
    ['::1.2.3.4'],
    ['1.2.3.4, 5.6.7.8'],
    ['"1.2.3.4"'],
  ])('%j -> null', (raw) => {
    expect(normalizeAddress(raw)).toBeNull();
  });

  it('rejects oversized input without parsing it', () => {
    const padded = ' '.repeat(MAX_ADDRESS_LENGTH) + '1.2.3.4';
    expect(normalizeAddress(padded)).toBeNull();
    expect(normalizeAddress('1'.repeat(1_000_000))).toBeNull();
  });

  it('rejects non-string input', () => {
    expect(normalizeAddress(undefined as unknown as string)).toBeNull();
    expect(normalizeAddress(42 as unknown as string)).toBeNull();
  });
});

describe('clientAddressOf', () => {
  it('gives the IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address carries', () => {
    expect(clientAddressOf('64:ff9b::c000:221')).toBe('192.0.2.33');
    expect(clientAddressOf(normalizeAddress('64:ff9b::192.0.2.33')!)).toBe('192.0.2.33');
    expect(clientAddressOf('2002:c000:221::1')).toBe('192.0.2.33');
    expect(clientAddressOf('2002:c000:221:ffff:1:2:3:4')).toBe('192.0.2.33');
    // A local or special IPv4 address is never taken from them: those stay IPv6 clients.
    for (const address of ['2002::', '2002:7f00:1::1', '2002:a00:1::', '64:ff9b::c0a8:101', '64:ff9b::a9fe:1', '2002:6440:1::']) {
      expect(clientAddressOf(address)).toBe(address);
    }
  });

  it('leaves every other address as it is', () => {
    for (const address of ['192.0.2.33', '2001:db8::1', '64:ff9b:1::c000:221', '64:ff9b::1:c000:221', '2003:c000:221::1', '::1', '2002c::1']) {
      expect(clientAddressOf(address)).toBe(address);
    }
  });
});
