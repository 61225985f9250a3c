import type { CanActivate, Type } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** Where and how Rampart's Prometheus metrics are registered. */
export interface RampartMetricsOptions {
  /**
   * The registry the metrics go into: the app's own, or a dedicated one. @default prom-client's global
   * `register`, which is also what `@willsoto/nestjs-prometheus`'s PrometheusModule serves by default.
   */
  registry?: Registry;
  /** What every metric's name starts with, except seed 002's `rate_limit_hits_total`. @default 'rampart_' */
  prefix?: string;
  /** Upper bounds of the store latency histogram's buckets, in seconds, ascending. @default DEFAULT_STORE_DURATION_BUCKETS_SECONDS (100 µs to 5 s) */
  storeDurationBuckets?: readonly number[];
}

/** RampartMetricsModule's options (`forRoot`, or the `forRootAsync` factory's answer). */
export type RampartMetricsModuleOptions = RampartMetricsOptions;

/** RampartMetricsModule's settings that decide which routes exist: given to `forRoot` / `forRootAsync` directly. */
export interface RampartMetricsExtras {
  /**
   * The route serving the registry's exposition (`registry.metrics()`, with its content type), exempt
   * from rate limits, bans and lists; `false` serves none (the metrics stay in the registry, e.g. for
   * `@willsoto/nestjs-prometheus`'s own `/metrics`). @default '/metrics'
   */
  path?: string | false;
  /**
   * A guard of the app's (a class, as `@UseGuards` takes it) the route must pass, e.g. one that checks
   * a scraper's bearer token or source network: it refuses with 403 (or its own exception) what it
   * does not admit. Resolved like any `@UseGuards` guard, in RampartMetricsModule's scope (its
   * dependencies must be global or exported to it). Without it, the route has no credentials: keep
   * it off the public network (see the README's "Metrics" section).
   */
  guard?: Type<CanActivate>;
}
