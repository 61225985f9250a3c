import { Controller, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { PrometheusController, PrometheusModule } from '@willsoto/nestjs-prometheus';
import { SkipThrottle } from '../../lib/index.js';
import { register, Registry } from 'prom-client';
import { RampartMetricsModule } from '../../lib/metrics/index.js';
import { family, samples } from '../support/exposition.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { promtoolCheck } from '../support/promtool.js';
import { BEARER, metricsAppModule } from './metrics.app.js';

const A = '198.51.100.1';
const B = '198.51.100.2';
const C = '198.51.100.3';
const RANGE = '203.0.113.0/24';

/** @willsoto/nestjs-prometheus's controller with no rate limit, as the README shows. */
@Controller()
@SkipThrottle()
class UnlimitedPrometheusController extends PrometheusController {}

const get = (t: TestApp, path: string, client: string) => t.http().get(path).set('X-Forwarded-For', client);

/**
 * A over its limit until blocked, B banned by an operator, C over a shadow rule until shadow-blocked,
 * a range blocked then lifted by an operator. Returns the statuses.
 */
async function scriptedTraffic(t: TestApp): Promise<number[]> {
  const statuses: number[] = [];
  // A: 3 admitted (the third uses the whole quota: near the limit), a violation, a second one (the block), a request while blocked.
  for (let i = 0; i < 6; i++) statuses.push((await get(t, '/ping', A)).status);
  await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: B, kind: 'permanent', reason: 'abuse' }).expect(201);
  statuses.push((await get(t, '/ping', B)).status);
  // C: admitted, then two shadow violations (the second a shadow block), then the shadow block holds: nothing refused.
  for (let i = 0; i < 4; i++) statuses.push((await get(t, '/shadowed', C)).status);
  await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ cidr: RANGE, kind: 'temporary', durationMs: 60_000, reason: 'scan' }).expect(201);
  await t
    .http()
    .delete(`/rate-limit/bans?cidr=${encodeURIComponent(RANGE)}`)
    .set('Authorization', BEARER)
    .expect(200);
  return statuses;
}

/** Every series but the store latency histogram's, after scriptedTraffic. */
const EXPECTED = {
  'rampart_decisions_total{protocol="http",outcome="allowed",rule="default"}': 3,
  'rampart_decisions_total{protocol="http",outcome="limited",rule="default"}': 1,
  // The violation that started the block is attributed to its rule; a request refused by the running block to none.
  'rampart_decisions_total{protocol="http",outcome="blocked",rule="default"}': 1,
  'rampart_decisions_total{protocol="http",outcome="blocked",rule=""}': 1,
  'rampart_decisions_total{protocol="http",outcome="banned",rule=""}': 1,
  // C's first request: counted by the shadow rule only, admitted with no enforced rule.
  'rampart_decisions_total{protocol="http",outcome="allowed",rule=""}': 1,
  'rampart_decisions_total{protocol="http",outcome="shadow_limited",rule="candidate"}': 1,
  'rampart_decisions_total{protocol="http",outcome="shadow_blocked",rule="candidate"}': 1,
  'rampart_decisions_total{protocol="http",outcome="shadow_blocked",rule=""}': 1,
  'rate_limit_hits_total{limit_type="http"}': 3,
  // The shadow rule's first admission used its whole quota of 1.
  'rampart_near_limit_total{protocol="http",rule="candidate"}': 1,
  'rampart_near_limit_total{protocol="http",rule="default"}': 1,
  'rampart_violations_total{rule="default",mode="enforced"}': 2,
  'rampart_violations_total{rule="candidate",mode="shadow"}': 2,
  'rampart_blocks_total{source="auto",mode="enforced"}': 1,
  'rampart_blocks_total{source="auto",mode="shadow"}': 1,
  'rampart_blocks_total{source="admin",mode="enforced"}': 1,
  'rampart_bans_total{source="admin",mode="enforced"}': 1,
  rampart_unbans_total: 1,
  'rampart_active_bans{kind="ban",target="key",mode="enforced"}': 0,
  'rampart_active_bans{kind="ban",target="address",mode="enforced"}': 1,
  'rampart_active_bans{kind="ban",target="range",mode="enforced"}': 0,
  'rampart_active_bans{kind="block",target="key",mode="enforced"}': 0,
  'rampart_active_bans{kind="block",target="address",mode="enforced"}': 1,
  'rampart_active_bans{kind="block",target="range",mode="enforced"}': 0,
  'rampart_active_bans{kind="ban",target="key",mode="shadow"}': 0,
  'rampart_active_bans{kind="ban",target="address",mode="shadow"}': 0,
  'rampart_active_bans{kind="block",target="key",mode="shadow"}': 0,
  'rampart_active_bans{kind="block",target="address",mode="shadow"}': 1,
  rampart_store_up: 1,
  rampart_store_fallback_active: 0,
};
/**
 * Store calls: A's first 4 requests (its 5th is answered by the denial known in memory, its 6th by
 * the block), C's first 2 (its 3rd: the denial known in memory; its 4th: the shadow block).
 */
const CONSUME_CALLS = 6;

/** A scraper's credentials: a bearer token of its own. */
@Injectable()
class ScrapeTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['authorization'] === 'Bearer scrape-token';
  }
}

describe.each(ADAPTERS)('Prometheus metrics (%s)', (adapter) => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  it('after scripted traffic, /metrics shows exactly what happened, passes promtool, and never shows a client key', async () => {
    const clock = new FakeClock();
    t = await startApp(adapter, metricsAppModule(clock));
    expect(await scriptedTraffic(t)).toEqual([200, 200, 200, 429, 429, 429, 403, 200, 200, 200, 200]);

    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const all = samples(res.text);
    const { rampart_store_duration_seconds_sum: sum, ...rest } = Object.fromEntries(
      Object.entries(all).map(([series, value]) => [series.replace(/\{operation="consume"\}$/, ''), value]),
    );
    const histogram = Object.fromEntries(Object.entries(rest).filter(([series]) => series.startsWith('rampart_store_duration_seconds')));
    const others = Object.fromEntries(Object.entries(rest).filter(([series]) => !series.startsWith('rampart_store_duration_seconds')));
    expect(others).toEqual(EXPECTED);
    expect(histogram['rampart_store_duration_seconds_count']).toBe(CONSUME_CALLS);
    expect(histogram['rampart_store_duration_seconds_bucket{operation="consume",le="+Inf"}']).toBe(CONSUME_CALLS);
    // Cumulative buckets, none above the count; the memory store answers within 100 ms.
    const buckets = Object.entries(histogram).filter(([series]) => series.includes('_bucket'));
    expect(buckets).toHaveLength(16);
    buckets.reduce((previous, [, value]) => (expect(value).toBeGreaterThanOrEqual(previous), value), 0);
    expect(histogram['rampart_store_duration_seconds_bucket{operation="consume",le="0.1"}']).toBe(CONSUME_CALLS);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(0.1 * CONSUME_CALLS);

    for (const client of [A, B, C, '198.51.100', RANGE, '203.0.113']) expect(res.text).not.toContain(client);
    expect(promtoolCheck(res.text)).toEqual({ status: 0, output: '' });

    // The gauges read the state when scraped: a minute later, A's block and C's shadow block have ended.
    clock.advance(60_000);
    const later = family((await t.http().get('/metrics').expect(200)).text, 'rampart_active_bans');
    expect(later['rampart_active_bans{kind="block",target="address",mode="enforced"}']).toBe(0);
    expect(later['rampart_active_bans{kind="block",target="address",mode="shadow"}']).toBe(0);
    expect(later['rampart_active_bans{kind="ban",target="address",mode="enforced"}']).toBe(1);
  });

  it('the route is exempt from limits and bans: a banned client over its limit scrapes, and scraping is not counted', async () => {
    t = await startApp(adapter, metricsAppModule(new FakeClock()));
    await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: B, kind: 'permanent', reason: 'abuse' }).expect(201);
    for (let i = 0; i < 5; i++) await get(t, '/metrics', B).expect(200);
    await get(t, '/ping', A).expect(200);
    const decisions = family((await get(t, '/metrics', B).expect(200)).text, 'rampart_decisions_total');
    expect(decisions).toEqual({ 'rampart_decisions_total{protocol="http",outcome="allowed",rule="default"}': 1 });
  });

  it('a path of its own; path false serves none; a bad path fails at once', async () => {
    const registry = new Registry();
    t = await startApp(adapter, metricsAppModule(new FakeClock(), { registry, path: '/ops/prometheus' }));
    await get(t, '/ping', A).expect(200);
    const res = await t.http().get('/ops/prometheus').expect(200);
    expect(family(res.text, 'rampart_decisions_total')).toEqual({ 'rampart_decisions_total{protocol="http",outcome="allowed",rule="default"}': 1 });
    await t.http().get('/metrics').expect(404);
    await t.close();

    t = await startApp(adapter, metricsAppModule(new FakeClock(), { registry, path: false }));
    await t.http().get('/metrics').expect(404);
    expect(await registry.getSingleMetric('rampart_store_up')?.get()).toMatchObject({ values: [{ value: 1 }] });
    expect(() => RampartMetricsModule.forRoot({ path: '' })).toThrow(/metrics path must be a route path such as '\/metrics', or false/);
  });

  it('with guard, serves only what the guard admits (403 otherwise); a guard that is not a class fails at once', async () => {
    t = await startApp(adapter, metricsAppModule(new FakeClock(), { registry: new Registry(), guard: ScrapeTokenGuard }));
    await get(t, '/ping', A).expect(200);
    const refused = await t.http().get('/metrics').expect(403);
    expect(refused.text).not.toContain('rampart_');
    await t.http().get('/metrics').set('Authorization', 'Bearer another-token').expect(403);
    const res = await t.http().get('/metrics').set('Authorization', 'Bearer scrape-token').expect(200);
    expect(family(res.text, 'rampart_decisions_total')).toEqual({ 'rampart_decisions_total{protocol="http",outcome="allowed",rule="default"}': 1 });
    expect(() => RampartMetricsModule.forRoot({ guard: 'ScrapeTokenGuard' as never })).toThrow(
      'metrics guard must be a guard class (one that implements CanActivate), as @UseGuards takes it, got "ScrapeTokenGuard".',
    );
  });

  it("beside @willsoto/nestjs-prometheus: in its /metrics (the global registry) when Rampart's route is off; removed when the app closes", async () => {
    const metadata = metricsAppModule(new FakeClock(), { path: false });
    t = await startApp(adapter, {
      ...metadata,
      imports: [...(metadata.imports ?? []), PrometheusModule.register({ defaultMetrics: { enabled: false }, controller: UnlimitedPrometheusController })],
    });
    await get(t, '/ping', A).expect(200);
    const res = await t.http().get('/metrics').expect(200);
    expect(family(res.text, 'rampart_decisions_total')).toEqual({
      'rampart_decisions_total{protocol="http",outcome="allowed",rule="default"}': 1,
      // The scrape itself: @SkipThrottle() skips every rule, but bans still apply, so it is decided with no rule.
      'rampart_decisions_total{protocol="http",outcome="allowed",rule=""}': 1,
    });
    expect(family(res.text, 'rampart_store_up')).toEqual({ rampart_store_up: 1 });
    expect(promtoolCheck(res.text)).toEqual({ status: 0, output: '' });
    await t.close();
    t = undefined;
    expect(register.getSingleMetric('rampart_decisions_total')).toBeUndefined();
  });

  it('forRootAsync: the registry and prefix from a factory', async () => {
    const registry = new Registry();
    const metadata = metricsAppModule(new FakeClock());
    t = await startApp(adapter, {
      ...metadata,
      imports: [metadata.imports![0]!, RampartMetricsModule.forRootAsync({ useFactory: () => ({ registry, prefix: 'shop_rampart_' }) })],
    });
    await get(t, '/ping', A).expect(200);
    const res = await t.http().get('/metrics').expect(200);
    expect(family(res.text, 'shop_rampart_decisions_total')).toEqual({ 'shop_rampart_decisions_total{protocol="http",outcome="allowed",rule="default"}': 1 });
    expect(family(res.text, 'rate_limit_hits_total')).toEqual({});
    expect(res.text).not.toMatch(/^rampart_/m);
  });
});
