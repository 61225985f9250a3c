import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ConcurrencyLimitInterceptor } from '../concurrency-limit.interceptor.js';
import type { ConcurrencyLimitOptions } from '../engine/concurrency-pool.js';
import { CONCURRENCY_METADATA } from '../rate-limit.constants.js';

/**
 * Limits how many calls of one client may be in flight at once on a microservice handler
 * (`@MessagePattern`, `@EventPattern`, `@GrpcMethod`, `@GrpcStreamMethod`), on each such handler of
 * a controller when put on the class (a handler's own wins). A call takes a slot before its handler runs and gives it back
 * when the handler completes or fails, or when the client goes away (a gRPC call cancelled or past
 * its deadline, a TCP connection closed). Slots are leases in the storage's lease store, shared by
 * every instance; the slots of an instance that dies lapse after `leaseMs`. A call without a free
 * slot is refused with `CONCURRENCY_LIMITED` (gRPC: `RESOURCE_EXHAUSTED`).
 *
 * The client is the one its rate limits count (the module's `keyResolver`, else its address).
 * Applied through an interceptor on the decorated handlers only: other routes pay nothing for it.
 *
 * @example
 * @ConcurrencyLimit(5)
 * @GrpcMethod('Reports', 'Build') build(request: BuildRequest) {}
 *
 * @example // one pool of 10 for both handlers, admitted without a slot while the lease store is down
 * @ConcurrencyLimit(10, { scope: 'exports', onStoreError: 'allow' })
 */
export const ConcurrencyLimit = (limit: number, options: ConcurrencyLimitOptions = {}) =>
  applyDecorators(SetMetadata(CONCURRENCY_METADATA, Object.freeze({ ...options, limit })), UseInterceptors(ConcurrencyLimitInterceptor));
