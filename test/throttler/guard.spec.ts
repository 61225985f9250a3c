import { Controller, Get, Logger, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal.js';
import { ThrottlerGuard, ThrottlerStorageService, type ThrottlerOptions } from '../../lib/throttler/index.js';
import { ADAPTERS, limitHeaders, startApp } from './support/http.js';
import { LIBS } from './support/libs.js';

class AppController {
  root() {}
}

function httpContext(headers: Array<[string, unknown]>): ExecutionContext {
  const req = { ip: '192.0.2.1', headers: {} };
  const res = { header: (name: string, value: unknown) => headers.push([name, value]) };
  return new ExecutionContextHost([req, res], AppController, AppController.prototype.root);
}

describe.each(LIBS)('%s: ThrottlerGuard without throttlers', (_name, lib) => {
  it.each(ADAPTERS)('lets every request through on %s and warns once at startup', async (adapter) => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      @Controller()
      class Open {
        @Get() root() {
          return 'root';
        }
      }
      const t = await startApp(adapter, {
        imports: [lib.ThrottlerModule.forRoot()],
        controllers: [Open],
        providers: [{ provide: APP_GUARD, useClass: lib.ThrottlerGuard }],
      });
      for (let i = 0; i < 5; i++) expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({});
      await t.close();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('nest-rampart/throttler ThrottlerGuard', () => {
  it('works when built by hand, outside the Nest lifecycle', async () => {
    const guard = new ThrottlerGuard([{ ttl: 60_000, limit: 1 }], new ThrottlerStorageService(), new Reflector());
    const headers: Array<[string, unknown]> = [];
    await expect(guard.canActivate(httpContext(headers))).resolves.toBe(true);
    await expect(guard.canActivate(httpContext(headers))).rejects.toMatchObject({ status: 429 });
    expect(headers).toEqual([
      ['X-RateLimit-Limit', 1],
      ['X-RateLimit-Remaining', 0],
      ['X-RateLimit-Reset', 60],
      ['Retry-After', 60],
    ]);
  });

  it('leaves the options it was given in their declared order', async () => {
    const throttlers: ThrottlerOptions[] = [
      { name: 'long', ttl: 60_000, limit: 100 },
      { name: 'short', ttl: 1_000, limit: 3 },
    ];
    const guard = new ThrottlerGuard({ throttlers }, new ThrottlerStorageService(), new Reflector());
    await guard.onModuleInit();
    expect(throttlers.map((t) => t.name)).toEqual(['long', 'short']);
    const headers: Array<[string, unknown]> = [];
    await guard.canActivate(httpContext(headers));
    expect(headers.map(([name]) => name)).toEqual([
      'X-RateLimit-Limit-short',
      'X-RateLimit-Remaining-short',
      'X-RateLimit-Reset-short',
      'X-RateLimit-Limit-long',
      'X-RateLimit-Remaining-long',
      'X-RateLimit-Reset-long',
    ]);
  });
});
