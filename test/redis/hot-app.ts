/**
 * The app instances the Redis e2e specs run: one route, `GET /hot`, limited by one rule whose
 * clients are told by their `X-Client` header, counted by the given store.
 */
import { Controller, Get, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RateLimitModule, type AlgorithmName } from '../../lib/index.js';
import type { RateLimitStore } from '../../lib/storage/rate-limit-store.interface.js';
import type { FakeClock } from '../support/fake-clock.js';

@Controller()
class HotController {
  @Get('hot') hot() {
    return 'ok';
  }
}

const clientHeader = (ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client'];

export interface HotRule {
  readonly algorithm: AlgorithmName;
  readonly limit: number;
  readonly windowMs: number;
  readonly blockDurationMs?: number;
}

/** A Nest app whose `GET /hot` is limited by `rule`, counted in `store`, on `clock`. */
export async function startHotApp(store: RateLimitStore, clock: FakeClock, rule: HotRule): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RateLimitModule.forRoot({
        store,
        clock,
        keyResolver: clientHeader,
        rules: [{ blockDurationMs: 0, ...rule }],
        // Only rate limiting is measured here, not escalation.
        ...({ escalation: false } as object),
        // Nor the outage policy: on a busy machine the last of 200 concurrent decisions may take
        // longer than the default 500 ms, which would answer it by onStoreError ('allow') instead.
        storeTimeoutMs: 10_000,
      }),
    ],
    controllers: [HotController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}
