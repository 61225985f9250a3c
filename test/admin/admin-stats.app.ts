import { Controller, Get } from '@nestjs/common';
import { SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import type { AdapterName } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

/** `/api` counts under the module's rule `per-minute`; `/beta` only under the shadow rule `beta`, which refuses nothing (and escalates the shadow key only). */
@Controller()
export class StatsTrafficController {
  @Get('api') api() {
    return 'ok';
  }

  @SkipThrottle('per-minute')
  @Throttle({ name: 'beta', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true })
  @Get('beta')
  beta() {
    return 'beta';
  }
}

/**
 * The app of the stats scenarios: two requests a minute per client on `/api`, a block of a minute
 * after the second violation, clients told apart by X-Forwarded-For, the admin API at `/rate-limit`.
 */
export function startStatsApp(adapter: AdapterName, options: RateLimitModuleOptions = {}): Promise<AdminTestApp> {
  return startAdminApp(adapter, {
    controllers: [StatsTrafficController],
    options: {
      rules: [{ name: 'per-minute', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 10, permanentBanWindowMs: 3_600_000 },
      ...options,
    },
  });
}

/** Requests from one client (its address in X-Forwarded-For), in order; the statuses answered. */
export async function traffic(t: AdminTestApp, path: string, client: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await t.http().get(path).set('X-Forwarded-For', client)).status);
  return statuses;
}

/** `GET /rate-limit/stats` with `query`. */
export const getStats = (t: AdminTestApp, query: Record<string, string | number> = {}) =>
  t.http().get('/rate-limit/stats').query(query).set('Authorization', BEARER);
