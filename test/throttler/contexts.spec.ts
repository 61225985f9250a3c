import { Injectable, type ExecutionContext, type Type } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/internal.js';
import { Test, type TestingModule } from '@nestjs/testing';
import type { ThrottlerRequest } from '../../lib/throttler/index.js';
import { LIBS, type ThrottlerLib } from './support/libs.js';

/** Guards for WebSocket and GraphQL contexts, written as the @nestjs/throttler documentation suggests. */
function contextGuards({ ThrottlerGuard }: ThrottlerLib) {
  @Injectable()
  class WsThrottlerGuard extends ThrottlerGuard {
    protected override async handleRequest(requestProps: ThrottlerRequest): Promise<boolean> {
      const { context, limit, ttl, throttler, blockDuration, generateKey } = requestProps;
      const client = context.switchToWs().getClient<{ _socket: { remoteAddress: string } }>();
      const tracker = client._socket.remoteAddress;
      const key = generateKey(context, tracker, throttler.name!);
      const record = await this.storageService.increment(key, ttl, limit, blockDuration, throttler.name!);
      if (record.isBlocked) await this.throwThrottlingException(context, { limit, ttl, key, tracker, ...record });
      return true;
    }
  }

  @Injectable()
  class GqlThrottlerGuard extends ThrottlerGuard {
    protected override getRequestResponse(context: ExecutionContext) {
      const gqlContext = context.getArgByIndex<{ req: Record<string, any>; res: Record<string, any> }>(2);
      return { req: gqlContext.req, res: gqlContext.res };
    }
  }
  return { WsThrottlerGuard, GqlThrottlerGuard };
}

class ChatGateway {
  onMessage() {}
}
class Resolver {
  posts() {}
}

function contextOf(type: 'ws' | 'graphql', args: unknown[], classRef: Type, handler: () => void): ExecutionContext {
  const host = new ExecutionContextHost(args, classRef, handler);
  host.setType(type);
  return host;
}

/** The outcome of one guard call: passed, or the error's name, status and response. */
async function outcome(run: () => Promise<boolean>) {
  try {
    return { passed: await run() };
  } catch (error) {
    const e = error as { name: string; getStatus(): number; getResponse(): unknown };
    return { name: e.name, status: e.getStatus(), response: e.getResponse() };
  }
}

describe.each(LIBS)('%s: non-HTTP contexts through getRequestResponse and handleRequest overrides', (_name, lib) => {
  let moduleRef: TestingModule;
  let guards: ReturnType<typeof contextGuards>;

  beforeEach(async () => {
    guards = contextGuards(lib);
    moduleRef = await Test.createTestingModule({
      imports: [lib.ThrottlerModule.forRoot([{ ttl: 60_000, limit: 2 }])],
      providers: [guards.WsThrottlerGuard, guards.GqlThrottlerGuard],
    }).compile();
    await moduleRef.init();
  });
  afterEach(() => moduleRef.close());

  it('limits WebSocket messages per socket address', async () => {
    const guard = moduleRef.get(guards.WsThrottlerGuard);
    const socket = (address: string) => ({ _socket: { remoteAddress: address } });
    const message = (address: string) => contextOf('ws', [socket(address), { text: 'hi' }], ChatGateway, ChatGateway.prototype.onMessage);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await outcome(() => guard.canActivate(message('10.0.0.1'))));
    results.push(await outcome(() => guard.canActivate(message('10.0.0.2'))));
    expect(results).toEqual([
      { passed: true },
      { passed: true },
      { name: 'ThrottlerException', status: 429, response: 'ThrottlerException: Too Many Requests' },
      { passed: true },
    ]);
  });

  it('limits GraphQL resolvers, with headers on the context response', async () => {
    const guard = moduleRef.get(guards.GqlThrottlerGuard);
    const headers: Array<[string, unknown]> = [];
    const res = { header: (name: string, value: unknown) => headers.push([name, value]) };
    const req = { ip: '::ffff:192.0.2.10', headers: { 'user-agent': 'client/1' } };
    const query = () => contextOf('graphql', [{}, { id: 1 }, { req, res }, { fieldName: 'posts' }], Resolver, Resolver.prototype.posts);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await outcome(() => guard.canActivate(query())));
    expect(results).toEqual([
      { passed: true },
      { passed: true },
      { name: 'ThrottlerException', status: 429, response: 'ThrottlerException: Too Many Requests' },
    ]);
    expect(headers).toEqual([
      ['X-RateLimit-Limit', 2],
      ['X-RateLimit-Remaining', 1],
      ['X-RateLimit-Reset', 60],
      ['X-RateLimit-Limit', 2],
      ['X-RateLimit-Remaining', 0],
      ['X-RateLimit-Reset', 60],
      ['Retry-After', 60],
    ]);
  });
});
