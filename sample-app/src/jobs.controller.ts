import { Controller, Logger } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { ConcurrencyLimit, SkipThrottle } from 'nest-rampart';

/** The longest a `report` job may be asked to take, in milliseconds. */
const MAX_REPORT_MS = 5_000;

/**
 * The sample app's microservice (TCP, see microservice.ts): the global guard limits its patterns as
 * it limits the HTTP routes, by the client's address. `sum` counts against the module's default
 * rule; `report` is not rate limited but runs at most twice at once per client (a third call is
 * refused with `CONCURRENCY_LIMITED` until one ends); `audit` events count against the default rule
 * too, and those beyond it are dropped.
 */
@Controller()
export class JobsController {
  private readonly logger = new Logger('Jobs');

  @MessagePattern({ cmd: 'sum' })
  sum(@Payload() values: unknown): number {
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new RpcException({ status: 'error', message: 'sum takes an array of finite numbers' });
    }
    return values.reduce((total: number, v: number) => total + v, 0);
  }

  /** A slow job: waits `ms` milliseconds (default 200, at most 5000), then reports. */
  @SkipThrottle()
  @ConcurrencyLimit(2)
  @MessagePattern({ cmd: 'report' })
  async report(@Payload() ms: unknown): Promise<{ readonly tookMs: number }> {
    const tookMs = typeof ms === 'number' && Number.isFinite(ms) ? Math.min(Math.max(0, Math.round(ms)), MAX_REPORT_MS) : 200;
    await new Promise((resolve) => setTimeout(resolve, tookMs));
    return { tookMs };
  }

  @EventPattern('audit')
  audit(@Payload() entry: unknown): void {
    this.logger.log(`audit: ${JSON.stringify(entry)?.slice(0, 200)}`);
  }
}
