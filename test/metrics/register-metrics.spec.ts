import mongoose from 'mongoose';
import { Registry } from 'prom-client';
import { createRampart, type RampartOptions } from '../../lib/engine/index.js';
import { registerRampartMetrics } from '../../lib/metrics/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { family, samples } from '../support/exposition.js';
import { FakeClock } from '../support/fake-clock.js';
import { promtoolCheck } from '../support/promtool.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function started(options: RampartOptions = {}) {
  const rampart = createRampart({ clock: new FakeClock(), logger: silent, ...options });
  await rampart.start();
  return rampart;
}

/** The distinct values of `label` over every series of an exposition. */
function labelValues(exposition: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const series of Object.keys(samples(exposition))) for (const m of series.matchAll(new RegExp(`[{,]${label}="([^"]*)"`, 'g'))) values.add(m[1]!);
  return values;
}

describe('registerRampartMetrics (without Nest)', () => {
  it('bounds the rule label: 500 rule names give at most stats.maxRuleLabels + 1 (other) values; client keys never appear', async () => {
    const rules = Array.from({ length: 500 }, (_, i) => ({ name: `rule-${i}`, limit: 1, windowMs: 60_000, algorithm: 'fixed-window' as const }));
    const rampart = await started({ stats: { maxRuleLabels: 20 }, escalation: false, rules });
    const registry = new Registry();
    registerRampartMetrics(rampart, { registry });
    // Each request counts every rule: a client's first is near every limit, its second refused by them all.
    const requests = [
      { address: '198.51.100.77', identity: 'user-secret-1' },
      { address: '2001:db8:77::1', identity: 'user-secret-2' },
    ];
    for (const request of requests) for (let n = 0; n < 2; n++) await rampart.decide({ target: 'GET /x', ...request });
    const text = await registry.metrics();
    const ruleValues = labelValues(text, 'rule');
    expect(ruleValues.size).toBe(21);
    expect(ruleValues).toContain('other');
    for (const value of ruleValues) expect(value === 'other' || rules.some((r) => r.name === value)).toBe(true);
    // Every admission is counted, under its rule or `other`.
    const near = family(text, 'rampart_near_limit_total');
    expect(near['rampart_near_limit_total{protocol="http",rule="other"}']).toBe(480 * 2);
    expect(near['rampart_near_limit_total{protocol="http",rule="rule-19"}']).toBe(2);
    expect(Object.keys(near)).toHaveLength(21);
    expect(family(text, 'rampart_decisions_total')).toEqual({
      'rampart_decisions_total{protocol="http",outcome="allowed",rule="rule-0"}': 2,
      'rampart_decisions_total{protocol="http",outcome="limited",rule="rule-0"}': 2,
    });
    expect(Object.keys(samples(text)).length).toBeLessThan(200);
    for (const secret of ['user-secret', '198.51.100', '2001:db8']) expect(text).not.toContain(secret);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
    await rampart.stop();
  });

  it('tells bans of identities, addresses and ranges apart, and reads the store health', async () => {
    const rampart = await started();
    const registry = new Registry();
    registerRampartMetrics(rampart, { registry, prefix: '' });
    await rampart.service.ban({ type: 'key', key: 'user-42' }, 'permanent', undefined, 'abuse', 'ops');
    await rampart.service.ban({ type: 'key', key: '2001:db8:1:2::/64' }, 'temporary', 60_000, 'abuse', 'ops');
    await rampart.service.ban({ type: 'cidr', cidr: '192.0.2.0/24' }, 'permanent', undefined, 'abuse', 'ops');
    const bans = family(await registry.metrics(), 'active_bans');
    expect(Object.entries(bans).filter(([, value]) => value > 0)).toEqual([
      ['active_bans{kind="ban",target="key",mode="enforced"}', 1],
      ['active_bans{kind="ban",target="range",mode="enforced"}', 1],
      ['active_bans{kind="block",target="address",mode="enforced"}', 1],
    ]);
    expect(Object.keys(bans)).toHaveLength(10);
    expect(family(await registry.metrics(), 'bans_total')).toEqual({ 'bans_total{source="admin",mode="enforced"}': 2 });

    rampart.health.down(new Error('gone'));
    const down = samples(await registry.metrics());
    expect([down['store_up'], down['store_fallback_active']]).toEqual([0, 1]);
    await rampart.stop();

    const failClosed = await started({ storeFallback: false });
    const other = new Registry();
    registerRampartMetrics(failClosed, { registry: other });
    failClosed.health.down(new Error('gone'));
    const closed = samples(await other.metrics());
    expect([closed['rampart_store_up'], closed['rampart_store_fallback_active']]).toEqual([0, 0]);
    await failClosed.stop();
  });

  it('refuses bad options, stats: false and a second registration in one registry, each with how to fix it; unregister frees the names', async () => {
    const rampart = await started();
    const registry = new Registry();
    expect(() => registerRampartMetrics(rampart, { registry, prefix: '9x', storeDurationBuckets: [0.1, 0.01] })).toThrow(
      /metrics prefix must be letters, digits, _ and :[^\n]*\n[^\n]*storeDurationBuckets must be a non-empty array of positive numbers of seconds, in ascending order/,
    );
    const first = registerRampartMetrics(rampart, { registry });
    expect(() => registerRampartMetrics(rampart, { registry })).toThrow(
      /A metric named rampart_decisions_total is already registered in this registry[^\n]*another prefix/,
    );
    expect(rampart.storeTimings.active).toBe(true);
    first.unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(rampart.storeTimings.active).toBe(false);
    registerRampartMetrics(rampart, { registry }).unregister();
    await rampart.stop();

    const noStats = await started({ stats: false });
    expect(() => registerRampartMetrics(noStats, { registry })).toThrow(/remove stats: false/);
    // Without metrics, store calls are not timed.
    await noStats.decide({ target: 'x', address: '192.0.2.1' });
    expect([...noStats.storeTimings.entries()]).toEqual([]);
    await noStats.stop();
  });
});

describeMongo('registerRampartMetrics on the MongoDB storage', () => {
  const dbName = uniqueDbName('metrics_mongo');

  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  it('times every consume round trip and counts every decision', async () => {
    const rampart = await started({
      storage: mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false }),
      rules: [{ name: 'api', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: false,
    });
    const registry = new Registry();
    registerRampartMetrics(rampart, { registry });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await rampart.decide({ target: 'GET /x', address: '192.0.2.9' })).outcome);
    expect(outcomes).toEqual(['admitted', 'admitted', 'limited']);
    const text = await registry.metrics();
    expect(family(text, 'rampart_decisions_total')).toEqual({
      'rampart_decisions_total{protocol="http",outcome="allowed",rule="api"}': 2,
      'rampart_decisions_total{protocol="http",outcome="limited",rule="api"}': 1,
    });
    const histogram = samples(text);
    expect(histogram['rampart_store_duration_seconds_count{operation="consume"}']).toBe(3);
    expect(histogram['rampart_store_duration_seconds_sum{operation="consume"}']).toBeGreaterThan(0);
    expect(histogram['rampart_store_up']).toBe(1);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
    await rampart.stop();
  });
});
