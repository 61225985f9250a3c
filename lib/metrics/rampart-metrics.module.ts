import { Module, type DynamicModule } from '@nestjs/common';
import { METRICS_OPTIONS_TYPE, MetricsConfigurableModuleClass } from './metrics.module-definition.js';

/**
 * Rampart's Prometheus metrics for a Nest app: registered in the app's registry (prom-client's global
 * `register` by default, the one `@willsoto/nestjs-prometheus` serves) when the app starts, served at
 * `path` (`/metrics` by default; `false` for none). Reads the app's `Rampart`, which RateLimitModule
 * (global, its default) provides.
 *
 * @example
 * imports: [RateLimitModule.forRoot({ rules }), RampartMetricsModule.forRoot()]
 *
 * @example
 * // Beside @willsoto/nestjs-prometheus, which serves the global registry at its own /metrics.
 * imports: [RateLimitModule.forRoot({ rules }), PrometheusModule.register(), RampartMetricsModule.forRoot({ path: false })]
 */
@Module({})
export class RampartMetricsModule extends MetricsConfigurableModuleClass {
  /** The metrics in `registry` (the global one by default), served at `path` (`/metrics` by default). */
  static override forRoot(options: typeof METRICS_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
