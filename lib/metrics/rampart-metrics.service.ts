import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { register as globalRegistry, type Registry } from 'prom-client';
import { Rampart } from '../engine/rampart.js';
import { RAMPART_METRICS_OPTIONS } from './metrics.constants.js';
import type { RampartMetricsModuleOptions } from './metrics-options.interface.js';
import { registerRampartMetrics, type RegisteredRampartMetrics } from './rampart-metrics.js';

/**
 * Registers the app's Rampart metrics in the registry when the module starts, and removes them when
 * the app closes (so that an app built again in the same process, as tests do, can register them again).
 */
@Injectable()
export class RampartMetricsService implements OnModuleInit, OnModuleDestroy {
  private registered: RegisteredRampartMetrics | undefined;

  constructor(
    private readonly rampart: Rampart,
    @Inject(RAMPART_METRICS_OPTIONS) private readonly options: RampartMetricsModuleOptions | undefined,
  ) {}

  /** The registry the metrics are in. */
  get registry(): Registry {
    return this.options?.registry ?? globalRegistry;
  }

  onModuleInit(): void {
    this.registered ??= registerRampartMetrics(this.rampart, this.options ?? {});
  }

  onModuleDestroy(): void {
    this.registered?.unregister();
    this.registered = undefined;
  }
}
