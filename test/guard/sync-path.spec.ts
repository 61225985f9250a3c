import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import { MemoryRateLimitStore, RateLimitGuard, RateLimitModule, type RateLimitModuleOptions } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';

@Controller()
class ItemsController {
  @Get() list() {
    return [];
  }
}

/** An Express-like response that records its headers. */
function response() {
  const headers: Record<string, string> = {};
  return { headers, header: (name: string, value: string) => void (headers[name] = value) };
}

function http(client: string, res = response()): { context: ExecutionContext; res: ReturnType<typeof response> } {
  const req = { method: 'GET', headers: { 'x-client': client }, socket: { remoteAddress: '192.0.2.1' } };
  const context = new ExecutionContextHost([req, res, () => undefined], ItemsController, ItemsController.prototype.list);
  context.setType('http');
  return { context, res };
}

async function guardWith(options: Partial<RateLimitModuleOptions>, store = new MemoryRateLimitStore()) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RateLimitModule.forRoot({
        store,
        clock: new FakeClock(),
        escalation: false,
        rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
        keyResolver: (c) => c.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-client'],
        ...options,
      }),
    ],
    controllers: [ItemsController],
  }).compile();
  await moduleRef.init();
  return { guard: moduleRef.get(RateLimitGuard), store, close: () => moduleRef.close() };
}

describe('RateLimitGuard with the memory store', () => {
  it('answers an admitted request synchronously, with the same headers', async () => {
    const { guard, close } = await guardWith({});
    const { context, res } = http('a');
    expect(guard.canActivate(context)).toBe(true);
    expect(res.headers).toEqual({ 'RateLimit-Policy': '"default";q=2;w=60', RateLimit: '"default";r=1;t=60' });
    await close();
  });

  it('reports a denial as a rejected promise, never as a synchronous throw', async () => {
    const { guard, close } = await guardWith({});
    expect(guard.canActivate(http('a').context)).toBe(true);
    expect(guard.canActivate(http('a').context)).toBe(true);
    const third = http('a');
    let answer: unknown;
    expect(() => (answer = guard.canActivate(third.context))).not.toThrow();
    await expect(answer).rejects.toMatchObject({ status: 429 });
    expect(third.res.headers['Retry-After']).toBe('60');
    await close();
  });

  it('waits for a key resolver that returns a promise', async () => {
    const { guard, close } = await guardWith({ keyResolver: async () => 'async-client' });
    const answer = guard.canActivate(http('ignored').context);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe(true);
    expect(await guard.canActivate(http('other').context)).toBe(true);
    await expect(guard.canActivate(http('x').context)).rejects.toMatchObject({ status: 429 });
    await close();
  });

  it('waits for a module skipIf that returns a promise', async () => {
    const { guard, store, close } = await guardWith({ skipIf: async () => true });
    for (let i = 0; i < 3; i++) expect(await guard.canActivate(http('a').context)).toBe(true);
    expect(store.size).toBe(0);
    await close();
  });

  it('goes through consume when the store replaces it (a subclass or a spy)', async () => {
    const store = new MemoryRateLimitStore();
    const consume = (jest.spyOn(store, 'consume') as jest.SpyInstance).mockRejectedValue(new Error('down'));
    const { guard, close } = await guardWith({ onStoreError: 'deny', storeFallback: false }, store);
    await expect(guard.canActivate(http('a').context)).rejects.toMatchObject({ status: 503 });
    expect(consume).toHaveBeenCalledTimes(1);
    await close();
  });

  it('counts rules with a cost function or their own key through the general path', async () => {
    const { guard, store, close } = await guardWith({
      rules: [
        { name: 'weighted', limit: 3, windowMs: 60_000, algorithm: 'fixed-window', cost: async () => 2 },
        { name: 'per-tenant', limit: 5, windowMs: 60_000, algorithm: 'fixed-window', keyResolver: () => 'tenant-1' },
      ],
    });
    const first = http('a');
    expect(await guard.canActivate(first.context)).toBe(true);
    expect(first.res.headers.RateLimit).toBe('"weighted";r=1;t=60, "per-tenant";r=4;t=60');
    await expect(guard.canActivate(http('a').context)).rejects.toMatchObject({ status: 429 });
    expect(store.size).toBe(2);
    await close();
  });
});
