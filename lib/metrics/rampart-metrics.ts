import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';
import { isAddressKey, shadowedClientKey } from '../engine/store-keys.js';
import type { Rampart } from '../engine/rampart.js';
import type { RampartConfig } from '../engine/rampart-config.js';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import type { Series } from '../observability/decision-recorder.js';
import { DEFAULT_STORE_DURATION_BUCKETS_SECONDS } from '../observability/store-timings.js';
import type { Ban } from '../storage/ban-store.interface.js';
import type { RampartMetricsOptions } from './metrics-options.interface.js';
import { StoreDurationHistogram } from './store-duration.histogram.js';
import { ddosMetricNames, registerDdosMetrics, type DdosReadings } from './ddos-metrics.js';

/** What every metric name starts with by default. */
export const DEFAULT_METRICS_PREFIX = 'rampart_';
/** Seed 002's metric, whose name takes no prefix. */
export const RATE_LIMIT_HITS_METRIC = 'rate_limit_hits_total';

/** What the metrics read of a Rampart (any Rampart, whatever its request context type). */
export type RampartMetricsSource = Pick<Rampart, 'stats' | 'bans' | 'health' | 'storeTimings'> & {
  readonly ddos?: DdosReadings | undefined;
  readonly config: Pick<RampartConfig, 'clock' | 'storeFallback'>;
};

/** Rampart's metrics in one registry, until `unregister`. */
export interface RegisteredRampartMetrics {
  readonly registry: Registry;
  /** The names registered. */
  readonly names: readonly string[];
  /** Removes the metrics from the registry and stops timing store calls. */
  unregister(): void;
}

/**
 * Registers Rampart's Prometheus metrics (see the README's "Metrics" section) in a registry. They
 * are read at scrape time from what Rampart counts anyway (its statistics, its in-memory bans, its
 * store health), so a request does nothing for them but time its store calls.
 *
 * @example
 * const rampart = createRampart({ rules });
 * registerRampartMetrics(rampart, { registry: new Registry() });
 * @throws RateLimitConfigurationError for a bad option, Rampart built with `stats: false`, or a name already taken in the registry
 */
export function registerRampartMetrics(rampart: RampartMetricsSource, options: RampartMetricsOptions = {}): RegisteredRampartMetrics {
  const { registry = globalRegistry, prefix = DEFAULT_METRICS_PREFIX, storeDurationBuckets = DEFAULT_STORE_DURATION_BUCKETS_SECONDS } = options;
  const stats = rampart.stats;
  const problems: string[] = [];
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) problems.push(messages.metricsBadPrefix(prefix));
  if (!ascendingPositive(storeDurationBuckets)) problems.push(messages.metricsBadBuckets(storeDurationBuckets));
  if (stats === undefined) problems.push(messages.metricsWithoutStats());
  if (problems.length === 0) {
    for (const name of metricNames(prefix, rampart)) if (registry.getSingleMetric(name) !== undefined) problems.push(messages.metricsNameTaken(name));
  }
  if (problems.length > 0 || stats === undefined) throw new RateLimitConfigurationError(problems, 'RampartMetrics');

  const counter = <L extends string>(name: string, help: string, labelNames: L[], series: () => Iterable<Series<L>>) =>
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Counter<L>) {
        this.reset();
        for (const { labels, value } of series()) this.inc(labels as never, value);
      },
    });
  const escalations = (kind: string) => () => only(stats.escalationSeries(), kind);
  counter(
    `${prefix}decisions_total`,
    'Requests decided, by protocol, outcome (allowed, limited, blocked, banned, unavailable, shadow_limited, shadow_blocked, shadow_banned) and deciding rule.',
    ['protocol', 'outcome', 'rule'],
    () => stats.decisionSeries(),
  );
  counter(
    RATE_LIMIT_HITS_METRIC,
    'Requests refused by a rate limit or a running block, by limit type (http, ws_connection, ws_message, ...).',
    ['limit_type'],
    () => stats.hitSeries(),
  );
  counter(
    `${prefix}near_limit_total`,
    "Admissions that used at least stats.nearLimitRatio of a rule's quota, by protocol and rule.",
    ['protocol', 'rule'],
    () => stats.nearLimitSeries(),
  );
  counter(`${prefix}violations_total`, 'Violations recorded, by rule and mode (enforced or shadow).', ['rule', 'mode'], () => stats.violationSeries());
  counter(
    `${prefix}blocks_total`,
    'Temporary blocks, by source (auto, admin or ddos) and mode (enforced or shadow).',
    ['source', 'mode'],
    escalations('block'),
  );
  counter(`${prefix}bans_total`, 'Bans until lifted, by source (auto or admin) and mode (enforced or shadow).', ['source', 'mode'], escalations('ban'));
  counter(`${prefix}unbans_total`, 'Bans and blocks lifted by an operator.', [], () => total(stats.escalationSeries(), 'unban'));

  const { clock, storeFallback } = rampart.config;
  new Gauge({
    name: `${prefix}active_bans`,
    help: 'Bans (kind=ban) and blocks (kind=block) in force held in memory, by target (key, address or range) and mode (enforced, or shadow: what shadow rules would have done).',
    labelNames: ['kind', 'target', 'mode'],
    registers: [registry],
    collect(this: Gauge<'kind' | 'target' | 'mode'>) {
      this.reset();
      for (const { labels, value } of activeBanSeries(rampart.bans.activeBans(clock.now()))) this.set(labels, value);
    },
  });
  const { health } = rampart;
  new Gauge({
    name: `${prefix}store_up`,
    help: '1 while the rate-limit store answers, 0 while it is down.',
    registers: [registry],
    collect(this: Gauge) {
      this.set(health.isDown ? 0 : 1);
    },
  });
  new Gauge({
    name: `${prefix}store_fallback_active`,
    help: '1 while the store is down and requests are counted by the in-process fallback store (storeFallback), else 0.',
    registers: [registry],
    collect(this: Gauge) {
      this.set(health.isDown && storeFallback ? 1 : 0);
    },
  });
  rampart.storeTimings.enable(storeDurationBuckets);
  new StoreDurationHistogram(`${prefix}store_duration_seconds`, rampart.storeTimings).registerIn(registry);
  if (rampart.ddos) registerDdosMetrics(rampart.ddos, prefix, registry);

  const names = metricNames(prefix, rampart);
  return {
    registry,
    names,
    unregister() {
      for (const name of names) registry.removeSingleMetric(name);
      rampart.storeTimings.disable();
    },
  };
}

function metricNames(prefix: string, rampart: RampartMetricsSource): string[] {
  return [
    ...(rampart.ddos ? ddosMetricNames(prefix) : []),
    `${prefix}decisions_total`,
    RATE_LIMIT_HITS_METRIC,
    `${prefix}near_limit_total`,
    `${prefix}violations_total`,
    `${prefix}blocks_total`,
    `${prefix}bans_total`,
    `${prefix}unbans_total`,
    `${prefix}active_bans`,
    `${prefix}store_up`,
    `${prefix}store_fallback_active`,
    `${prefix}store_duration_seconds`,
  ];
}

/** Escalations of one kind, by source and mode. */
function* only(series: Iterable<Series<'kind' | 'source' | 'mode'>>, kind: string): Iterable<Series<'source' | 'mode'>> {
  for (const { labels, value } of series) if (labels.kind === kind) yield { labels: { source: labels.source, mode: labels.mode }, value };
}

/** Escalations of one kind, all sources and modes together. */
function* total(series: Iterable<Series<'kind' | 'source' | 'mode'>>, kind: string): Iterable<Series<never>> {
  let sum = 0;
  for (const { labels, value } of series) if (labels.kind === kind) sum += value;
  if (sum > 0) yield { labels: {}, value: sum };
}

/**
 * The bans in force by kind, target and mode, every combination included (zeros too, so that a
 * dashboard shows 0 rather than no data) but shadow ranges: shadow rules block `shadow:<client key>` only.
 */
function activeBanSeries(bans: Iterable<Ban>): Series<'kind' | 'target' | 'mode'>[] {
  const counts = new Map<string, number>();
  for (const mode of ['enforced', 'shadow'])
    for (const kind of ['ban', 'block'])
      for (const target of mode === 'shadow' ? ['key', 'address'] : ['key', 'address', 'range']) counts.set(`${kind}|${target}|${mode}`, 0);
  for (const ban of bans) {
    const kind = ban.kind === 'permanent' ? 'ban' : 'block';
    let target = 'range';
    let mode = 'enforced';
    if (ban.target.type === 'key') {
      const shadowed = shadowedClientKey(ban.target.key);
      if (shadowed !== undefined) mode = 'shadow';
      target = isAddressKey(shadowed ?? ban.target.key) ? 'address' : 'key';
    }
    const id = `${kind}|${target}|${mode}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts].map(([id, value]) => {
    const [kind, target, mode] = id.split('|');
    return { labels: { kind, target, mode }, value };
  });
}

function ascendingPositive(buckets: unknown): buckets is readonly number[] {
  return (
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (buckets[i - 1] as number)))
  );
}
