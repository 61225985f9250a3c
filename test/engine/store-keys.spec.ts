import { createHash } from 'node:crypto';
import { identityKey, namedClientKey, StoreKeys } from '../../lib/engine/store-keys.js';

const hashed = (text: string) => `sha256:${createHash('sha256').update(text).digest('base64url')}`;

describe('client keys: addresses and identities never collide', () => {
  it('keeps an identity as it is when no address key can look like it', () => {
    for (const identity of ['user-42', '42', 'alice@example.com', 'k_live_9fQ', 'tenant:acme', 'a'.repeat(128)]) expect(identityKey(identity)).toBe(identity);
  });

  it('prefixes id: to an identity that reads like an address key, the no-address key or a reserved form', () => {
    for (const identity of ['198.51.100.7', '::1', '2001:db8:1:2::/64', '10.0.0.0/8', 'cafe:01', '1.2', 'unknown', 'id:x', 'sha256:x']) {
      expect(identityKey(identity)).toBe(`id:${identity}`);
    }
  });

  it('hashes an identity whose key would be longer than 128 characters; an identity spelling a hash is another key', () => {
    expect(identityKey('a'.repeat(129))).toBe(hashed('a'.repeat(129)));
    expect(identityKey('1.'.repeat(63))).toBe(hashed('1.'.repeat(63)));
    expect(identityKey('1.'.repeat(62) + '1')).toBe(`id:${'1.'.repeat(62)}1`);
    const spelled = hashed('a'.repeat(129));
    expect(identityKey(spelled)).toBe(`id:${spelled}`);
    expect(identityKey(`sha256:${'0'.repeat(64)}`)).toBe(`id:sha256:${'0'.repeat(64)}`);
  });

  it("keys a request's identity as its address only when it is the address's own key", () => {
    const keys = new StoreKeys(64);
    const addressKey = keys.addressIdentity('2001:db8:1:2::9');
    expect(addressKey).toBe('2001:db8:1:2::/64');
    expect(keys.clientKey(addressKey, addressKey)).toBe(addressKey);
    expect(keys.clientKey('2001:db8:1:2::9', addressKey)).toBe('id:2001:db8:1:2::9');
    expect(keys.clientKey('198.51.100.7', keys.addressIdentity('203.0.113.9'))).toBe('id:198.51.100.7');
    expect(keys.clientKey('unknown', keys.addressIdentity(null))).toBe('unknown');
    expect(keys.clientKey('user-42', addressKey)).toBe('user-42');
  });

  it('names a key as stored, or an identity as id:<identity>', () => {
    expect(namedClientKey('198.51.100.7')).toBe('198.51.100.7');
    expect(namedClientKey('user-42')).toBe('user-42');
    expect(namedClientKey('id:user-42')).toBe('user-42');
    expect(namedClientKey('id:198.51.100.7')).toBe('id:198.51.100.7');
    expect(namedClientKey('id:id:x')).toBe('id:id:x');
    expect(namedClientKey('id:' + 'a'.repeat(200))).toBe(hashed('a'.repeat(200)));
    expect(namedClientKey(hashed('x'))).toBe(hashed('x'));
  });
});
