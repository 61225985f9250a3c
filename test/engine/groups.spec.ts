import { createRampart, RateLimitConfigurationError, type RampartOptions, type Verdict } from '../../lib/engine/index.js';
import { FakeClock } from '../support/fake-clock.js';

const CLIENT = '203.0.113.7';
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
type Ctx = { group?: unknown };

async function started(options: RampartOptions<Ctx>) {
  const rampart = createRampart<Ctx>({ clock: new FakeClock(), logger: silent, ...options });
  await rampart.start();
  return rampart;
}

/** The outcomes of `n` requests of one client in `group` (as its context names it). */
async function outcomes(rampart: { decide(r: never): unknown }, n: number, context: Ctx, address = CLIENT): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) seen.push(((await rampart.decide({ target: 't', address, context } as never)) as Verdict).outcome);
  return seen;
}

const byContext = (context: Ctx) => context.group as string | undefined;

describe('groups (the groupResolver, rules with groups, unlimited groups)', () => {
  it('counts each group by its own rule; a rule without groups counts every group no other rule names', async () => {
    const rampart = await started({
      groupResolver: byContext,
      rules: [
        { name: 'everyone', limit: 1, windowMs: 60_000, algorithm: 'fixed-window' },
        { name: 'partners', groups: ['partner'], limit: 3, windowMs: 60_000, algorithm: 'fixed-window' },
      ],
    });
    expect(await outcomes(rampart, 2, {})).toEqual(['admitted', 'limited']);
    expect(await outcomes(rampart, 4, { group: 'partner' }, '203.0.113.8')).toEqual(['admitted', 'admitted', 'admitted', 'limited']);
    // A group nobody names is counted by the rule without groups (never a free pass).
    expect(await outcomes(rampart, 2, { group: 'unheard-of' }, '203.0.113.9')).toEqual(['admitted', 'limited']);
    const partner = (await rampart.decide({ target: 't', address: '203.0.113.10', context: { group: 'partner' } })) as Verdict;
    expect(partner.results.map((r) => r.name)).toEqual(['partners']);
    await rampart.stop();
  });

  it('never limits an unlimited group, but still refuses its banned clients', async () => {
    const rampart = await started({
      groupResolver: byContext,
      groups: { admin: { unlimited: true } },
      rules: [{ limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }],
    });
    expect(await outcomes(rampart, 5, { group: 'admin' })).toEqual(Array(5).fill('admitted'));
    expect(await outcomes(rampart, 2, {}, '203.0.113.8')).toEqual(['admitted', 'limited']);
    await rampart.service.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'ops');
    expect(await outcomes(rampart, 1, { group: 'admin' })).toEqual(['banned']);
    await rampart.stop();
  });

  it('puts clients in the default group when the resolver names none, or names something that is no group', async () => {
    const rampart = await started({
      groupResolver: byContext,
      rules: [
        { name: 'default-only', groups: ['default'], limit: 1, windowMs: 60_000, algorithm: 'fixed-window' },
        { name: 'gold', groups: ['gold'], limit: 5, windowMs: 60_000, algorithm: 'fixed-window' },
      ],
    });
    for (const [i, group] of [undefined, '', ['gold'], { toString: () => 'gold' }, 'gold plus', 42].entries()) {
      expect(await outcomes(rampart, 2, { group }, `203.0.113.${20 + i}`)).toEqual(['admitted', 'limited']);
    }
    await rampart.stop();
  });

  it('answers with a promise when the resolver does, and rejects when it throws', async () => {
    const rampart = await started({
      groupResolver: async (context) => {
        if (context.group === 'boom') throw new Error('resolver failed');
        return context.group as string;
      },
      groups: { admin: { unlimited: true } },
      rules: [{ limit: 1, windowMs: 60_000 }],
    });
    expect(await outcomes(rampart, 3, { group: 'admin' })).toEqual(['admitted', 'admitted', 'admitted']);
    await expect(rampart.decide({ target: 't', address: CLIENT, context: { group: 'boom' } })).rejects.toThrow('resolver failed');
    await rampart.stop();
  });

  it('does not ask the resolver when no rule and no group needs it', async () => {
    let asked = 0;
    const rampart = await started({ groupResolver: () => (asked++, 'x'), rules: [{ limit: 5, windowMs: 60_000 }] });
    await outcomes(rampart, 3, {});
    expect(asked).toBe(0);
    await rampart.stop();
  });

  it('refuses bad group options at startup, listing each problem', () => {
    const attempt = () =>
      createRampart({
        groupResolver: 'admin' as never,
        groups: { admin: { unlimited: 'yes' as never }, 'no spaces': {}, partner: { limit: 5 } as never },
        rules: [
          { limit: 1, windowMs: 1_000, groups: [] },
          { name: 'b', limit: 1, windowMs: 1_000, groups: ['ok', 'not ok'] },
        ],
      });
    expect(attempt).toThrow(RateLimitConfigurationError);
    try {
      attempt();
    } catch (error) {
      expect((error as RateLimitConfigurationError).problems).toEqual([
        "rules[0].groups must be a non-empty list of group names (1-64 letters, digits, '_', '-' or '.'), got an array.",
        "rules[1].groups must be a non-empty list of group names (1-64 letters, digits, '_', '-' or '.'), got an array.",
        'groupResolver must be a function, got "admin".',
        'groups.admin.unlimited must be true or false, got "yes".',
        "groups: 'no spaces' is not a group name: 1-64 letters, digits, '_', '-' or '.'.",
        'groups.partner.limit is not an option; the options are unlimited.',
      ]);
    }
  });
});
