import type { ExecutionContext } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import type { ClientProxy } from '@nestjs/microservices';
import { GRPC_REFUSAL_TRAILERS, IdentityError } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startRpcApp, trailers, unary, type RpcTestApp } from './rpc.app.js';

const SUM = { cmd: 'sum' };

/** The numbers a call carries: a TCP message's array, a gRPC request's `values`. */
function numbersOf(context: ExecutionContext): unknown[] {
  const data = context.switchToRpc().getData<unknown>();
  const values = Array.isArray(data) ? data : (data as { values?: unknown } | undefined)?.values;
  return Array.isArray(values) ? values : [];
}

/**
 * Who sends 13 cannot be identified (its key resolver says so at once); who sends 7 has a group
 * that cannot be told (its group resolver says so, later). Everyone else is its address.
 */
const identity = {
  keyResolver: (context: ExecutionContext) => {
    if (numbersOf(context).includes(13)) throw new IdentityError('Send your API key with each call.');
    return undefined;
  },
  groupResolver: async (context: ExecutionContext) => {
    if (numbersOf(context).includes(7)) throw new IdentityError('Your plan could not be found.');
    return undefined;
  },
  groups: { admin: { unlimited: true } },
};

describe('microservice calls whose client cannot be identified', () => {
  let t: RpcTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses a TCP call with UNAUTHENTICATED, counts nothing, and answers a pattern no rule counts', async () => {
    t = await startRpcApp({ clock: new FakeClock(), ...identity });
    const client: ClientProxy = await t.tcpClient();
    const send = (pattern: unknown, data: unknown) => (t as RpcTestApp).send(client, pattern, data);
    await expect(send(SUM, [13])).rejects.toEqual({ status: 'error', code: 'UNAUTHENTICATED', message: 'Send your API key with each call.' });
    await expect(send(SUM, [7])).rejects.toEqual({ status: 'error', code: 'UNAUTHENTICATED', message: 'Your plan could not be found.' });
    expect(await send('free', [13])).toEqual([13]);
    // Nothing was counted: the address has its whole quota (2 a minute).
    expect(await send(SUM, [1, 2])).toBe(3);
    expect(await send(SUM, [1, 2])).toBe(3);
    await expect(send(SUM, [1, 2])).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('ends a gRPC call with the UNAUTHENTICATED status and its code in the trailers', async () => {
    t = await startRpcApp({ clock: new FakeClock(), ...identity });
    const client = t.grpcClient();
    for (const [values, details] of [
      [[13], 'Send your API key with each call.'],
      [[7], 'Your plan could not be found.'],
    ] as const) {
      const outcome = await unary(client, 'add', [...values]).outcome;
      if (!('error' in outcome)) throw new Error('the call was admitted');
      expect(outcome.error.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(outcome.error.details).toBe(details);
      expect(trailers(outcome.error)).toMatchObject({ [GRPC_REFUSAL_TRAILERS.code]: 'UNAUTHENTICATED', [GRPC_REFUSAL_TRAILERS.retryPushback]: '-1' });
    }
    expect(await unary(client, 'free', [13]).outcome).toEqual({ value: { total: 13 } });
  });
});
