import { Controller, Get } from '@nestjs/common';
import { SkipThrottle } from 'nest-rampart';

/** Probes must never be refused: no rule counts this controller, and it gets no rate-limit headers. */
@SkipThrottle()
@Controller('health')
export class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}
