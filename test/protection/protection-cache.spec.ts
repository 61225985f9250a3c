import { ProtectionCache } from '../../lib/protection/protection-cache.js';
import type { AccessListEntry } from '../../lib/storage/access-list-store.interface.js';
import type { Ban, BanTarget } from '../../lib/storage/ban-store.interface.js';

const T0 = Date.UTC(2030, 0, 1);
const MIN = 60_000;

function ban(target: BanTarget, fields: Partial<Ban> = {}): Ban {
  return {
    id: target.type === 'key' ? `key:${target.key}` : `cidr:${target.cidr}`,
    target,
    kind: 'temporary',
    reason: 'test',
    source: 'admin',
    createdBy: 'ops',
    createdAtMs: T0,
    expiresAtMs: T0 + 15 * MIN,
    violationCount: 0,
    blockCount: 1,
    updatedAtMs: T0,
    ...fields,
  };
}

function entry(kind: 'allow' | 'deny', cidr: string, fields: Partial<AccessListEntry> = {}): AccessListEntry {
  return { kind, cidr, createdBy: 'ops', createdAtMs: T0, updatedAtMs: T0, ...fields };
}

describe('ProtectionCache', () => {
  let cache: ProtectionCache;
  beforeEach(() => {
    cache = new ProtectionCache();
  });

  it('answers none, without parsing, when empty', () => {
    expect(cache.isEmpty).toBe(true);
    expect(cache.check('203.0.113.7', 'not even an address', T0)).toEqual({ status: 'none' });
  });

  it('blocks by key until the ban expires, and bans permanently', () => {
    const block = ban({ type: 'key', key: 'user:1' });
    cache.applyBan(block, T0);
    expect(cache.check('user:1', null, T0)).toEqual({ status: 'blocked', ban: block, untilMs: T0 + 15 * MIN });
    expect(cache.checkKey('user:1', T0 + 15 * MIN - 1).status).toBe('blocked');
    expect(cache.check('user:1', null, T0 + 15 * MIN)).toEqual({ status: 'none' });
    expect(cache.check('user:2', null, T0)).toEqual({ status: 'none' });
    const permanent = ban({ type: 'key', key: 'user:3' }, { kind: 'permanent', expiresAtMs: undefined });
    cache.applyBan(permanent, T0);
    expect(cache.check('user:3', '192.0.2.1', T0 + 365 * 24 * 60 * MIN)).toEqual({ status: 'banned', ban: permanent });
  });

  it('matches CIDR bans against the address, IPv4 and IPv6, not the key', () => {
    cache.applyBan(ban({ type: 'cidr', cidr: '203.0.113.0/24' }), T0);
    cache.applyBan(ban({ type: 'cidr', cidr: '2001:db8::/32' }, { kind: 'permanent', expiresAtMs: undefined }), T0);
    expect(cache.check('k', '203.0.113.200', T0).status).toBe('blocked');
    expect(cache.check('k', '203.0.114.1', T0).status).toBe('none');
    expect(cache.check('k', '2001:db8:ffff::1', T0).status).toBe('banned');
    expect(cache.check('k', '2001:db9::1', T0).status).toBe('none');
    expect(cache.check('203.0.113.5', null, T0).status).toBe('none'); // no address: ranges cannot match
    expect(cache.checkKey('203.0.113.5', T0).status).toBe('none');
  });

  it('reads IPv4-mapped ranges as IPv4', () => {
    cache.applyBan(ban({ type: 'cidr', cidr: '::ffff:198.51.100.0/120' }), T0);
    expect(cache.check('k', '198.51.100.9', T0).status).toBe('blocked');
  });

  it('prefers a permanent ban, then the longer block', () => {
    const short = ban({ type: 'key', key: '203.0.113.7' }, { expiresAtMs: T0 + MIN });
    const long = ban({ type: 'cidr', cidr: '203.0.113.0/24' }, { expiresAtMs: T0 + 60 * MIN });
    cache.applyBan(short, T0);
    cache.applyBan(long, T0);
    expect(cache.check('203.0.113.7', '203.0.113.7', T0)).toMatchObject({ status: 'blocked', untilMs: T0 + 60 * MIN });
    const permanent = ban({ type: 'cidr', cidr: '203.0.0.0/16' }, { kind: 'permanent', expiresAtMs: undefined });
    cache.applyBan(permanent, T0);
    expect(cache.check('203.0.113.7', '203.0.113.7', T0)).toEqual({ status: 'banned', ban: permanent });
  });

  it('puts the allow-list before the deny-list and bans, and ignores expired or removed entries', () => {
    cache.applyBan(ban({ type: 'key', key: '10.1.2.3' }, { kind: 'permanent', expiresAtMs: undefined }), T0);
    cache.applyEntry(entry('deny', '10.0.0.0/8'), T0);
    expect(cache.check('10.1.2.3', '10.1.2.3', T0).status).toBe('deny-listed');
    cache.applyEntry(entry('allow', '10.1.0.0/16', { expiresAtMs: T0 + MIN }), T0);
    expect(cache.check('10.1.2.3', '10.1.2.3', T0)).toMatchObject({ status: 'allow-listed', entry: { cidr: '10.1.0.0/16' } });
    expect(cache.check('10.1.2.3', '10.1.2.3', T0 + MIN).status).toBe('deny-listed');
    cache.applyEntry(entry('deny', '10.0.0.0/8', { removedAtMs: T0 + 1, updatedAtMs: T0 + 1 }), T0 + 1);
    expect(cache.check('10.1.2.3', '10.1.2.3', T0 + MIN).status).toBe('banned');
  });

  it('applies each read as it comes: the latest read wins, whatever its timestamp', () => {
    const target: BanTarget = { type: 'key', key: 'k' };
    cache.applyBan(ban(target, { updatedAtMs: T0 + 5, liftedAtMs: T0 + 5, liftedBy: 'ops' }), T0 + 5);
    expect(cache.check('k', null, T0 + 6).status).toBe('none');
    // Banned again by an instance whose clock is behind: still the record's current state.
    cache.applyBan(ban(target, { updatedAtMs: T0 + 1 }), T0 + 6);
    expect(cache.check('k', null, T0 + 6).status).toBe('blocked');
    cache.applyBan(ban(target, { updatedAtMs: T0 + 1 }), T0 + 6); // the same read again: harmless
    expect(cache.sizes.keyBans).toBe(1);
  });

  it('prunes what is no longer in force', () => {
    cache.applyBan(ban({ type: 'key', key: 'a' }, { expiresAtMs: T0 + MIN }), T0);
    cache.applyBan(ban({ type: 'cidr', cidr: '192.0.2.0/24' }, { expiresAtMs: T0 + MIN }), T0);
    cache.applyEntry(entry('allow', '198.51.100.0/24', { expiresAtMs: T0 + MIN }), T0);
    cache.applyBan(ban({ type: 'key', key: 'b' }, { kind: 'permanent', expiresAtMs: undefined }), T0);
    expect(cache.sizes).toEqual({ keyBans: 2, cidrBans: 1, allow: 1, deny: 0 });
    cache.prune(T0 + MIN - 1);
    expect(cache.sizes).toEqual({ keyBans: 2, cidrBans: 1, allow: 1, deny: 0 });
    cache.prune(T0 + MIN);
    expect(cache.sizes).toEqual({ keyBans: 1, cidrBans: 0, allow: 0, deny: 0 });
  });

  it('replaces everything from a full listing, except what was written here after it began', () => {
    cache.applyBan(ban({ type: 'key', key: 'removed-elsewhere' }), T0);
    cache.applyBan(ban({ type: 'cidr', cidr: '192.0.2.0/24' }), T0);
    cache.applyEntry(entry('deny', '198.51.100.0/24'), T0);
    cache.applyBan(ban({ type: 'key', key: 'written-after' }), T0);
    cache.applyBan(ban({ type: 'key', key: 'lifted-after' }), T0);
    const listed = [ban({ type: 'key', key: 'still-banned' }), ban({ type: 'key', key: 'lifted-after' })];
    const keep = (id: string) => id === 'key:written-after' || id === 'key:lifted-after';
    cache.applyBan(ban({ type: 'key', key: 'lifted-after' }, { liftedAtMs: T0 + 1 }), T0 + 1); // the local lift
    cache.replaceAll(listed, [entry('allow', '203.0.113.0/24')], T0 + 2, keep);
    expect(cache.checkKey('removed-elsewhere', T0 + 2).status).toBe('none');
    expect(cache.check('k', '192.0.2.1', T0 + 2).status).toBe('none');
    expect(cache.check('k', '198.51.100.1', T0 + 2).status).toBe('none');
    expect(cache.checkKey('written-after', T0 + 2).status).toBe('blocked');
    expect(cache.checkKey('lifted-after', T0 + 2).status).toBe('none');
    expect(cache.checkKey('still-banned', T0 + 2).status).toBe('blocked');
    expect(cache.check('k', '203.0.113.1', T0 + 2).status).toBe('allow-listed');
  });

  it('ignores a record whose range cannot be parsed', () => {
    cache.applyBan(ban({ type: 'cidr', cidr: 'not-a-cidr' }), T0);
    expect(cache.check('k', '192.0.2.1', T0).status).toBe('none');
  });
});
