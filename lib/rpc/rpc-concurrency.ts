import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import type { PeerSocket } from '../core/ip/connection-peers.js';
import { acquireSlot, type ConcurrencyPool } from '../engine/concurrency-pool.js';
import type { Rampart } from '../engine/rampart.js';
import { storeUnavailableDetail } from '../errors/messages.js';
import type { RpcCall } from './rpc-call.js';
import { RpcLimiter } from './rpc-limiter.js';
import { concurrencyLimitedError } from './rpc-rate-limit-error.js';

/** A TCP connection, as far as its close matters. */
interface ClosingSocket extends PeerSocket {
  readonly destroyed?: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The concurrency limits of microservice calls: a slot (a lease in the storage's lease store) per
 * call in flight, per client and pool. A call without a free slot is refused as a rate limit is
 * (`CONCURRENCY_LIMITED`; `UNAVAILABLE` while the lease store is down and the pool's `onStoreError`
 * is `deny`). The slot is given back when the handler's stream completes or fails, or when the
 * client goes away: a gRPC call that is cancelled or passes its deadline, a TCP connection that
 * closes. Going away also ends the handler's stream (an observable handler is unsubscribed; a
 * promise runs on, its answer unsent).
 */
export class RpcConcurrency {
  private readonly clients: RpcLimiter;
  /** The TCP connections with calls in flight, each with what to do when it closes (one listener per connection). */
  private readonly closing = new WeakMap<ClosingSocket, Set<() => void>>();

  constructor(private readonly rampart: Rampart<ExecutionContext>) {
    this.clients = new RpcLimiter(rampart);
  }

  /**
   * Takes a slot of `pool` for the call's client, then runs the handler holding it. Calls that the
   * module's `skipIf` lets through, of allow-listed clients, or on transports Rampart does not
   * limit, run without a slot. Errors with the call's refusal when no slot is free. The slot is
   * taken once the stream is subscribed and given back by its teardown, however it ends: a
   * subscriber that leaves while the slot is being taken (an outer timeout) gives it back too.
   */
  hold(context: ExecutionContext, next: CallHandler, pool: ConcurrencyPool): Observable<unknown> {
    return new Observable<unknown>((subscriber) => {
      let left = false;
      let release: (() => void) | undefined;
      let forget: (() => void) | undefined;
      let handled: Subscription | undefined;
      const run = () => {
        if (!left) handled = next.handle().subscribe(subscriber);
      };
      this.take(context, pool).then(
        (taken) => {
          if (taken === 'free') return run();
          if (left) return taken.release();
          release = taken.release;
          if (this.isGone(taken.call)) return subscriber.complete();
          forget = this.whenGone(taken.call, () => subscriber.complete());
          run();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        left = true;
        handled?.unsubscribe();
        forget?.();
        release?.();
      };
    });
  }

  /** A slot of `pool` for the call's client (`free`: the call needs none); rejects with the call's refusal. */
  private async take(context: ExecutionContext, pool: ConcurrencyPool): Promise<'free' | { readonly call: RpcCall; release(): void }> {
    const { skipIf } = this.rampart.config;
    if (skipIf && (await skipIf(context))) return 'free';
    const client = await this.clients.identify(context);
    if (client === undefined) return 'free';
    const outcome = await acquireSlot(this.rampart, pool, client.address, client.identity);
    if (outcome === 'free') return 'free';
    if (outcome.status === 'refused') return this.clients.refuse(client.call, concurrencyLimitedError(pool.name, pool.limit));
    if (outcome.status === 'unavailable') {
      return this.clients.refuse(client.call, { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1, message: storeUnavailableDetail() });
    }
    return { call: client.call, release: outcome.release };
  }

  /** Whether the client has gone away already: a gRPC call cancelled, a TCP connection closed. */
  private isGone(call: RpcCall): boolean {
    if (call.transport === 'grpc') return call.call.cancelled === true;
    return (call.socket as ClosingSocket | undefined)?.destroyed === true;
  }

  /** Calls `listener` when the client goes away; returns what stops listening. */
  private whenGone(call: RpcCall, listener: () => void): () => void {
    if (call.transport === 'grpc') {
      const { call: grpcCall } = call;
      grpcCall.once('cancelled', listener);
      return () => grpcCall.removeListener('cancelled', listener);
    }
    const socket = call.socket as ClosingSocket | undefined;
    if (typeof socket?.once !== 'function') return () => undefined;
    let listeners = this.closing.get(socket);
    if (listeners === undefined) {
      const set = (listeners = new Set());
      this.closing.set(socket, set);
      socket.once('close', () => {
        this.closing.delete(socket);
        for (const gone of [...set]) gone();
      });
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }
}
