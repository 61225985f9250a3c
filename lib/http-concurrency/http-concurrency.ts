import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import { acquireSlot, type ConcurrencyPool } from '../engine/concurrency-pool.js';
import type { Rampart } from '../engine/rampart.js';
import { ConcurrencyLimitExceededException } from '../errors/concurrency-limit.exception.js';
import { concurrentRequestsDetail, unwatchableResponse } from '../errors/concurrency-messages.js';
import { storeUnavailableDetail } from '../errors/messages.js';
import { StoreUnavailableException } from '../errors/store-unavailable.exception.js';
import { isClosed, peerSocket, rawResponse, requestHeaders, setHeader } from '../http-exchange.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import type { DenialReason } from '../responses/custom-response.interface.js';
import { RefusalResponses } from '../responses/refusal-responses.js';
import { appendConcurrencyHeaders } from './concurrency-headers.js';

/**
 * The concurrency limits of HTTP routes: a slot (a lease in the storage's lease store) per request
 * in flight, per client and pool. The slot is taken once every guard has admitted the request,
 * before the handler (and its pipes) run, and given back once BOTH the response is done (sent in
 * full, whatever sent it, or cut short by the client closing the connection) AND the handler's
 * observable has ended (completed, failed, or unsubscribed: Nest tears down a handler's Observable
 * when its client leaves, but lets a handler's promise run to its end, so the slot waits for it).
 * A client that aborts its requests thus never has more handlers running than the limit. A
 * request without a free slot is refused with 429 (`ConcurrencyLimitExceededException`); while
 * the lease store is down, the pool's `onStoreError` decides (`deny`: 503).
 */
export class HttpConcurrency {
  private readonly responses: RefusalResponses;

  constructor(private readonly rampart: Rampart<ExecutionContext>) {
    this.responses = new RefusalResponses(rampart.config.logger);
  }

  /**
   * Runs the handler holding a slot of `pool` for the request's client. Requests the module's
   * `skipIf` lets through and allow-listed clients run without a slot. A request whose client has
   * gone away before a slot was free is not handled.
   */
  hold(context: ExecutionContext, next: CallHandler, pool: ConcurrencyPool): Observable<unknown> {
    return new Observable<unknown>((subscriber) => {
      let left = false;
      let handled: Subscription | undefined;
      let ended: (() => void) | undefined;
      // The handler's side of the slot: once, when its observable ends or is torn down.
      const end = () => {
        const handlerEnded = ended;
        ended = undefined;
        handled?.unsubscribe();
        handlerEnded?.();
      };
      this.take(context, pool).then(
        (handlerEnded) => {
          if (handlerEnded === false) return subscriber.complete();
          ended = handlerEnded;
          if (left) return end();
          handled = next.handle().subscribe({
            next: (value) => subscriber.next(value),
            error: (error: unknown) => {
              end();
              subscriber.error(error);
            },
            complete: () => {
              end();
              subscriber.complete();
            },
          });
          // Ended while subscribing (a synchronous answer): its subscription is closed now.
          if (ended === undefined) handled.unsubscribe();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        left = true;
        end();
      };
    });
  }

  /**
   * Takes a slot for the request. Resolves with what to call once the handler has ended (the slot
   * is given back when that call and the response's close have both come, in either order), or
   * false when the client is gone already; rejects with the request's refusal when no slot is free.
   */
  private async take(context: ExecutionContext, pool: ConcurrencyPool): Promise<(() => void) | false> {
    const { engine } = this.rampart;
    const config = this.rampart.config as RateLimitConfig;
    if (config.skipIf && (await config.skipIf(context))) return noSlot;
    const request = context.getArgByIndex<unknown>(0);
    const response = context.getArgByIndex<unknown>(1);
    const { identity } = engine;
    const address = identity.clientAddress(identity.peerAddress(peerSocket(request)), requestHeaders(request));
    // A resolver that cannot tell (an `IdentityError`) leaves the client known by its address: still
    // limited, as the guard counts it on a route without rules.
    const outcome = await acquireSlot(this.rampart, pool, address, await identity.identify(context, address, false));
    if (outcome === 'free') return noSlot;
    if (outcome.status === 'granted') {
      const raw = rawResponse(response);
      if (raw === undefined || isClosed(raw)) outcome.release();
      // Loud, never a request without its slot: Express and Fastify always hand over a Node response.
      if (raw === undefined) throw new Error(unwatchableResponse());
      if (isClosed(raw)) return false;
      const done = afterBoth(outcome.release);
      raw.once('close', done);
      // Held 0: the store is down and the pool admits without a slot, nobody counting.
      if (outcome.held > 0 && config.standardHeaders) appendConcurrencyHeaders(response, pool, outcome.held);
      return done;
    }
    setHeader(response, 'Retry-After', 1);
    if (outcome.status === 'unavailable') return this.refuse(context, new StoreUnavailableException(storeUnavailableDetail(), 1), 'unavailable', pool);
    if (config.standardHeaders) appendConcurrencyHeaders(response, pool, pool.limit);
    const exception = new ConcurrencyLimitExceededException(pool.name, pool.limit, concurrentRequestsDetail(pool.name, pool.limit));
    return this.refuse(context, exception, 'concurrency-limited', pool);
  }

  /** Throws a refusal: the module's `denialResponse`, when it gives one, else `exception` (problem details). */
  private refuse(
    context: ExecutionContext,
    exception: ConcurrencyLimitExceededException | StoreUnavailableException,
    reason: DenialReason,
    pool: ConcurrencyPool,
  ): never {
    const custom = (this.rampart.config as RateLimitConfig).denialResponse;
    const body = exception.getResponse() as Record<string, unknown>;
    const facts = reason === 'unavailable' ? { reason } : { reason, rule: pool.name, limit: pool.limit };
    const denial = custom && (() => custom({ ...facts, status: exception.getStatus(), body, retryAfterSeconds: 1 }, context));
    return this.responses.refuse(context, exception, 'denialResponse', denial);
  }
}

/** A slot without a lease (skipped, allow-listed): nothing to give back. */
const noSlot = (): void => undefined;

/** Calls `release` at the second of two calls (each side calls once): the response's close and the handler's end, in either order. */
function afterBoth(release: () => void): () => void {
  let pending = 2;
  return () => {
    if (--pending === 0) release();
  };
}
