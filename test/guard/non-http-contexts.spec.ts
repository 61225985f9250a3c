import { Controller, Get } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { MemoryRateLimitStore, RateLimitGuard, RateLimitModule } from '../../lib/index.js';

@Controller()
class EventsController {
  @Get() handle() {
    return 'ok';
  }
}

describe('RateLimitGuard outside HTTP', () => {
  it.each(['ws', 'rpc', 'graphql'])('lets a %s context through without counting it', async (type) => {
    const store = new MemoryRateLimitStore();
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ store, rules: [{ limit: 1, windowMs: 60_000 }] })],
      controllers: [EventsController],
    }).compile();
    const guard = moduleRef.get(RateLimitGuard);
    const context = new ExecutionContextHost([{ data: 'payload' }, {}], EventsController, EventsController.prototype.handle);
    context.setType(type);
    for (let i = 0; i < 3; i++) expect(await guard.canActivate(context)).toBe(true);
    expect(store.size).toBe(0);
  });
});
