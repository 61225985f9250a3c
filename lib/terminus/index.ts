/**
 * `nest-rampart/terminus`: a `@nestjs/terminus` health indicator for Rampart's rate-limit storage.
 * Loads @nestjs/terminus (an optional peer); the main entry point never does.
 */
export { RampartHealthIndicator, type RampartHealthCheckOptions } from './rampart-health.indicator.js';
export { RampartHealthModule } from './rampart-health.module.js';
export { checkRampartHealth, DEFAULT_HEALTH_REUSE_MS, SharedHealthCheck, type RampartHealth, type RampartHealthState } from './rampart-health.js';
