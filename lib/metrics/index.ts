/**
 * `nest-rampart/metrics`: Rampart's Prometheus metrics. Needs prom-client (an optional peer of the
 * package, needed only here); the main entry point never loads it.
 */
export { RampartMetricsModule } from './rampart-metrics.module.js';
export { RampartMetricsService } from './rampart-metrics.service.js';
export { registerRampartMetrics, DEFAULT_METRICS_PREFIX, RATE_LIMIT_HITS_METRIC } from './rampart-metrics.js';
export type { RampartMetricsSource, RegisteredRampartMetrics } from './rampart-metrics.js';
export type { RampartMetricsOptions, RampartMetricsModuleOptions, RampartMetricsExtras } from './metrics-options.interface.js';
export { DEFAULT_STORE_DURATION_BUCKETS_SECONDS } from '../observability/store-timings.js';
export { DEFAULT_METRICS_PATH } from './metrics.constants.js';
