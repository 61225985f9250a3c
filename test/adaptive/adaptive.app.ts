import { Controller, Get } from '@nestjs/common';
import { RateLimitModule } from '../../lib/index.js';
import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import type { FakeClock } from '../support/fake-clock.js';
import { startApp, type AdapterName, type TestApp } from '../support/http-app.js';

export const ADMIN_KEY = 'adaptive-admin-key-0123456789';

@Controller()
export class DataController {
  @Get('data') data() {
    return { ok: true };
  }
}

/**
 * `GET /data` under one adaptive rule: 10 requests per 1-second fixed window for a client of
 * initial trust, sampled per second; quick settings so that each step is a few requests (α = 0.5,
 * T = 2 deviations, two intervals of warm-up, trust halved by an anomaly and by a refusal, half the
 * distance to full trust regained per good interval), never below 2. Escalation is off: a refusal is
 * answered by the rule alone. Clients are told apart by X-Forwarded-For from loopback.
 */
export function startAdaptiveApp(adapter: AdapterName, clock: FakeClock, storage: RampartStorage): Promise<TestApp> {
  return startApp(adapter, {
    imports: [
      RateLimitModule.forRoot({
        clock,
        storage,
        trustProxy: { proxies: ['loopback'] },
        escalation: false,
        adminApiKey: ADMIN_KEY,
        admin: {},
        rules: [
          {
            name: 'api',
            limit: 10,
            windowMs: 1_000,
            algorithm: 'fixed-window',
            adaptive: { learningRate: 0.5, anomalyThreshold: 2, warmupIntervals: 2, trustGain: 0.5, anomalyPenalty: 0.5, violationPenalty: 0.5, min: 2 },
          },
        ],
      }),
    ],
    controllers: [DataController],
  });
}
