import { ConfigurableModuleBuilder } from '@nestjs/common';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { createMetricsController } from './metrics.controller.js';
import { DEFAULT_METRICS_PATH, RAMPART_METRICS_OPTIONS } from './metrics.constants.js';
import type { RampartMetricsExtras, RampartMetricsModuleOptions } from './metrics-options.interface.js';
import { RampartMetricsService } from './rampart-metrics.service.js';

export const {
  ConfigurableModuleClass: MetricsConfigurableModuleClass,
  OPTIONS_TYPE: METRICS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: METRICS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RampartMetricsModuleOptions>({ moduleName: 'RampartMetrics', optionsInjectionToken: RAMPART_METRICS_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRampartMetricsOptions')
  .setExtras<RampartMetricsExtras>({ path: DEFAULT_METRICS_PATH }, (definition, extras) => {
    const { path, guard } = extras;
    // Checked when the module is defined: a bad path or guard fails at once.
    if (path !== false && (typeof path !== 'string' || path.trim() === ''))
      throw new RateLimitConfigurationError([messages.metricsBadPath(path)], 'RampartMetricsModule');
    if (guard !== undefined && typeof guard !== 'function') throw new RateLimitConfigurationError([messages.metricsBadGuard(guard)], 'RampartMetricsModule');
    return {
      ...definition,
      controllers: [...(definition.controllers ?? []), ...(path === false ? [] : [createMetricsController(path, guard)])],
      providers: [...(definition.providers ?? []), RampartMetricsService],
      exports: [...(definition.exports ?? []), RampartMetricsService],
    };
  })
  .build();
