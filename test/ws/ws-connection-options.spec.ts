import { memoryStorage, type RateLimitModuleOptions } from '../../lib/index.js';
import { resolveRateLimitConfig } from '../../lib/rate-limit.config.js';
import { problemsOf } from '../support/config-problems.js';

describe('websockets options (startup validation)', () => {
  it('defaults to no connection limit and to failing closed', () => {
    expect(resolveRateLimitConfig({}).websockets).toEqual({ onStoreError: 'deny' });
  });

  it('takes a connection rule named ws-connections by default, failing closed unless it says otherwise', () => {
    const { websockets } = resolveRateLimitConfig({ websockets: { maxConnections: 5, connectionRate: { limit: 20, windowMs: 60_000 } } });
    expect(websockets.maxConnections).toBe(5);
    expect(websockets.connectionRate).toMatchObject({ name: 'ws-connections', limit: 20, windowMs: 60_000, onStoreError: 'deny' });
    const open = resolveRateLimitConfig({ websockets: { onStoreError: 'allow', connectionRate: { name: 'handshakes', limit: 2, windowMs: 1_000 } } });
    expect(open.websockets.connectionRate).toMatchObject({ name: 'handshakes', onStoreError: 'allow' });
  });

  it('lists every problem of the option at startup', () => {
    expect(problemsOf({ websockets: 5 as unknown as RateLimitModuleOptions['websockets'] })).toEqual([
      'websockets must be an object such as { maxConnections: 5, connectionRate: { limit: 20, windowMs: 60000 } }, got 5.',
    ]);
    const problems = problemsOf({
      websockets: {
        maxConnections: 0,
        onStoreError: 'maybe',
        connectionRate: { limit: -1, windowMs: 1_000 },
        maxConnection: 3,
      } as unknown as RateLimitModuleOptions['websockets'],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^websockets\.maxConnection is not an option; the options are maxConnections, connectionRate, messageRate, onStoreError\.$/),
        expect.stringMatching(/^websockets\.onStoreError/),
        expect.stringMatching(/^websockets\.maxConnections must be a positive integer/),
        expect.stringMatching(/^websockets\.connectionRate\.limit must be a positive integer/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('refuses maxConnections on a storage without a lease store, and a lease store without its methods', () => {
    const { leases: _leases, ...withoutLeases } = memoryStorage();
    expect(problemsOf({ storage: withoutLeases, websockets: { maxConnections: 5 } })).toEqual([
      'websockets.maxConnections needs a lease store (storage.leases) to count connections across instances; memoryStorage() and mongoStorage() have one, a custom storage must add it.',
    ]);
    expect(problemsOf({ storage: withoutLeases })).toEqual([]);
    const broken = { ...memoryStorage(), leases: { acquire: () => undefined } } as unknown as RateLimitModuleOptions['storage'];
    expect(problemsOf({ storage: broken })[0]).toMatch(/leases\.release\(\), leases\.renew\(\), leases\.releaseHolder\(\), leases\.count\(\)/);
  });

  it('refuses a leaseMs that is not a positive integer of at least 3', () => {
    expect(problemsOf({ leaseMs: 2 })[0]).toMatch(/^leaseMs \(at least 3\) must be a positive integer/);
    expect(problemsOf({ leaseMs: 60_000 })).toEqual([]);
  });
});
