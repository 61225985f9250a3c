import { parseBareAddress } from '../../../lib/core/ip/client-address.js';
import { IpRangeIndex } from '../../../lib/core/ip/ip-range-index.js';
import { inIpRange, parseIpRange, type IpRange } from '../../../lib/core/ip/ip-range.js';
import { ProtectionCache } from '../../../lib/protection/protection-cache.js';
import type { Ban } from '../../../lib/storage/ban-store.interface.js';

/** A seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random ranges and addresses over few distinct prefixes of the address space (so that many ranges
 * nest and many addresses fall in some), written as IPv4, IPv6 and IPv4-mapped IPv6.
 */
function generator(seed: number) {
  const next = random(seed);
  const int = (n: number) => Math.floor(next() * n);
  // Few values per leading part, random elsewhere: ranges nest and overlap.
  const octets = () => [[10, 192, 203][int(3)]!, int(3), int(256), int(256)];
  const hextets = () => [0x2001, [0xdb8, 0xdb9][int(2)]!, int(3), int(65536), int(65536), int(4), int(65536), int(65536)];
  const v6 = (parts: number[]) => parts.map((p) => p.toString(16)).join(':');
  return {
    int,
    range(): string {
      const form = int(10);
      if (form < 5) return `${octets().join('.')}/${int(33)}`;
      if (form < 9) return `${v6(hextets())}/${int(129)}`;
      return `::ffff:${octets().join('.')}/${96 + int(33)}`;
    },
    address(): string {
      const form = int(10);
      if (form < 5) return octets().join('.');
      if (form < 9) return v6(hextets());
      return `::ffff:${octets().join('.')}`;
    },
  };
}

function parsed(text: string): IpRange {
  const result = parseIpRange(text);
  if (!('range' in result)) throw new Error(`not a range: ${text}`);
  return result.range;
}

describe('IpRangeIndex', () => {
  it('finds exactly the ranges a linear scan with inIpRange finds, over random ranges and addresses', () => {
    for (const seed of [1, 2, 3]) {
      const gen = generator(seed);
      const index = new IpRangeIndex<number>();
      const ranges = new Map<number, IpRange>();
      for (let i = 0; i < 1_000; i++) {
        const range = parsed(gen.range());
        ranges.set(i, range);
        index.set(String(i), range, i);
      }
      // Some replaced by another range, some deleted: the trie must forget their old places.
      for (let i = 0; i < 300; i++) {
        const id = gen.int(1_000);
        if (i % 2 === 0) {
          ranges.delete(id);
          index.delete(String(id));
        } else {
          const range = parsed(gen.range());
          ranges.set(id, range);
          index.set(String(id), range, id);
        }
      }
      expect(index.size).toBe(ranges.size);
      const entries = [...ranges];
      const mismatches: string[] = [];
      let matched = 0;
      for (let i = 0; i < 2_000; i++) {
        const text = gen.address();
        const address = parseBareAddress(text)!;
        const expected = entries.filter(([, range]) => inIpRange(address, range)).map(([id]) => id);
        const found = index.collect(address, []);
        const prefixes = found.map((id) => ranges.get(id)![1]);
        const same = [...found].sort((a, b) => a - b).join() === expected.sort((a, b) => a - b).join();
        // Shortest prefix first.
        const ordered = prefixes.every((p, k) => k === 0 || prefixes[k - 1]! <= p);
        if (!same || !ordered) mismatches.push(`${text}: found ${found.join()} (prefixes ${prefixes.join()}), expected ${expected.join()}`);
        if (expected.length > 0) matched++;
      }
      expect(mismatches).toEqual([]);
      // The case is not vacuous: most addresses fall in some range.
      expect(matched).toBeGreaterThan(1_000);
    }
  });

  it('matches IPv4-mapped ranges and addresses as IPv4, never across families', () => {
    const index = new IpRangeIndex<string>();
    index.set('mapped', parsed('::ffff:198.51.100.0/120'), 'mapped');
    index.set('v6-all', parsed('::/0'), 'v6-all');
    index.set('v4-all', parsed('0.0.0.0/0'), 'v4-all');
    expect(index.collect(parseBareAddress('198.51.100.9')!, [])).toEqual(['v4-all', 'mapped']);
    expect(index.collect(parseBareAddress('::ffff:198.51.100.9')!, [])).toEqual(['v4-all', 'mapped']);
    expect(index.collect(parseBareAddress('2001:db8::1')!, [])).toEqual(['v6-all']);
    index.delete('v4-all');
    index.delete('mapped');
    expect(index.collect(parseBareAddress('198.51.100.9')!, [])).toEqual([]);
    expect(index.delete('mapped')).toBe(false);
  });
});

describe('ProtectionCache range matching', () => {
  const T0 = Date.UTC(2030, 0, 1);
  const MINUTE = 60_000;

  it('gives the verdict a linear scan of every range gives, over random bans and list entries', () => {
    const gen = generator(7);
    const cache = new ProtectionCache();
    const bans: Ban[] = [];
    const allow: string[] = [];
    // By CIDR text, as the cache keeps entries (a later entry of one range replaces the earlier).
    const deny = new Map<string, { cidr: string; expiresAtMs?: number }>();
    for (let i = 0; i < 1_000; i++) {
      const text = gen.range();
      const kind = gen.int(20);
      if (kind === 0) {
        allow.push(text);
        cache.applyEntry({ kind: 'allow', cidr: text, createdBy: 'ops', createdAtMs: T0, updatedAtMs: T0 }, T0);
      } else if (kind < 3) {
        const entry = { cidr: text, ...(gen.int(2) === 0 ? { expiresAtMs: T0 + gen.int(10) * MINUTE } : {}) };
        deny.set(text, entry);
        cache.applyEntry({ kind: 'deny', createdBy: 'ops', createdAtMs: T0, updatedAtMs: T0, ...entry }, T0);
      } else {
        const permanent = gen.int(5) === 0;
        const ban: Ban = {
          id: `cidr:${text}#${i}`,
          target: { type: 'cidr', cidr: text },
          kind: permanent ? 'permanent' : 'temporary',
          reason: 'r',
          source: 'admin',
          createdBy: 'ops',
          createdAtMs: T0,
          ...(permanent ? {} : { expiresAtMs: T0 + (1 + gen.int(10)) * MINUTE }),
          violationCount: 0,
          blockCount: 0,
          updatedAtMs: T0,
        };
        bans.push(ban);
        cache.applyBan(ban, T0);
      }
    }
    const live = (expiresAtMs: number | undefined, nowMs: number) => expiresAtMs === undefined || expiresAtMs > nowMs;
    const mismatches: string[] = [];
    for (let i = 0; i < 1_500; i++) {
      const text = gen.address();
      const address = parseBareAddress(text)!;
      const nowMs = T0 + gen.int(12) * MINUTE;
      const canonical = address.kind() === 'ipv4' ? address.toString() : text;
      const verdict = cache.check('k', canonical, nowMs);
      const holds = (cidr: string) => inIpRange(address, parsed(cidr));
      let expected: { status: string; untilMs?: number };
      if (allow.some(holds)) expected = { status: 'allow-listed' };
      else if ([...deny.values()].some((entry) => live(entry.expiresAtMs, nowMs) && holds(entry.cidr))) expected = { status: 'deny-listed' };
      else {
        const active = bans.filter((ban) => holds((ban.target as { cidr: string }).cidr) && (ban.kind === 'permanent' || ban.expiresAtMs! > nowMs));
        if (active.some((ban) => ban.kind === 'permanent')) expected = { status: 'banned' };
        else if (active.length > 0) expected = { status: 'blocked', untilMs: Math.max(...active.map((ban) => ban.expiresAtMs!)) };
        else expected = { status: 'none' };
      }
      const untilMs = verdict.status === 'blocked' ? verdict.untilMs : undefined;
      if (verdict.status !== expected.status || untilMs !== expected.untilMs)
        mismatches.push(`${text} at +${nowMs - T0}: ${JSON.stringify(verdict)}, expected ${JSON.stringify(expected)}`);
    }
    expect(mismatches).toEqual([]);
  });
});
