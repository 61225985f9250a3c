/** The texts of `nest-rampart/metrics`'s errors; `messages.ts` re-exports them with the rest. */
import { describe } from './describe.js';

export const metricsNameTaken = (name: string) =>
  `A metric named ${name} is already registered in this registry: Rampart's metrics are registered once per registry. ` +
  'Give each Rampart its own registry (the registry option) or another prefix (the prefix option), or unregister the first one.';
export const metricsBadPrefix = (prefix: unknown) =>
  `metrics prefix must be letters, digits, _ and : not starting with a digit (e.g. 'rampart_' or 'myapp_rampart_'), got ${describe(prefix)}.`;
export const metricsBadBuckets = (buckets: unknown) =>
  `storeDurationBuckets must be a non-empty array of positive numbers of seconds, in ascending order (e.g. [0.001, 0.01, 0.1, 1]), got ${describe(buckets)}.`;
export const metricsWithoutStats = () =>
  "Rampart's Prometheus metrics count from its statistics, which the module option stats: false switches off: remove stats: false (or give stats options).";
export const metricsBadPath = (path: unknown) =>
  `metrics path must be a route path such as '/metrics', or false to serve no route (the metrics stay in the registry), got ${describe(path)}.`;

export const metricsBadGuard = (guard: unknown) =>
  `metrics guard must be a guard class (one that implements CanActivate), as @UseGuards takes it, got ${describe(guard)}.`;
