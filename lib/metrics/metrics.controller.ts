import { Controller, Get, Res, SetMetadata, UseGuards, type CanActivate, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SkipThrottle } from '../decorators/skip-throttle.decorator.js';
import { EXEMPT_METADATA } from '../rate-limit.constants.js';
import { RampartMetricsService } from './rampart-metrics.service.js';

/**
 * `GET <path>`: the registry's exposition with its content type, for Prometheus to scrape. Made per
 * module definition, so that the path and the guard are configurable. Not rate limited and not
 * subject to bans or lists: a scraper must never be refused by what it watches. With `guard`, only
 * what it admits is served.
 */
export function createMetricsController(path: string, guard?: Type<CanActivate>): Type<unknown> {
  @Controller(path)
  @UseGuards(...(guard ? [guard] : []))
  @SkipThrottle()
  @SetMetadata(EXEMPT_METADATA, true)
  class RampartMetricsController {
    constructor(
      private readonly metrics: RampartMetricsService,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get()
    scrape(@Res({ passthrough: true }) response: unknown): Promise<string> {
      const { registry } = this.metrics;
      this.adapterHost.httpAdapter.setHeader(response, 'Content-Type', registry.contentType);
      return registry.metrics();
    }
  }
  return RampartMetricsController;
}
