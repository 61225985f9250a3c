import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ConcurrencyLimitInterceptor } from '../concurrency-limit.interceptor.js';
import type { ConcurrencyLimitOptions } from '../engine/concurrency-pool.js';
import { CONCURRENCY_METADATA } from '../rate-limit.constants.js';

/**
 * Limits how many requests (or calls) of one client may be in flight at once on an HTTP route
 * (`@Get`, `@Post`...) or a microservice handler (`@MessagePattern`, `@EventPattern`, `@GrpcMethod`,
 * `@GrpcStreamMethod`); on each such handler of a controller when put on the class (a handler's own
 * wins). A request takes a slot once the guards have admitted it, before its pipes and handler run,
 * and gives it back when its response is done (sent in full, whatever sent it: the handler or an
 * exception filter) or its connection closes; a call gives it back when its handler completes or
 * fails, or when the client goes away (a gRPC call cancelled or past its deadline, a TCP
 * connection closed). Slots are leases in the storage's lease store, shared by every instance; the
 * slots of an instance that dies lapse after `leaseMs`. A request without a free slot is refused
 * with 429 (`ConcurrencyLimitExceededException`, a `RateLimit-Policy` item with
 * `qu="concurrent-requests"`); a call with `CONCURRENCY_LIMITED` (gRPC: `RESOURCE_EXHAUSTED`).
 *
 * The client is the one its rate limits count (the module's `keyResolver`, else its address).
 * Applied through an interceptor on the decorated handlers only: other routes pay nothing for it.
 *
 * @example
 * @ConcurrencyLimit(5)
 * @GrpcMethod('Reports', 'Build') build(request: BuildRequest) {}
 *
 * @example // at most 2 exports in flight per client over both routes; admitted without a slot while the lease store is down
 * @ConcurrencyLimit(2, { scope: 'exports', onStoreError: 'allow' })
 * @Get('export.csv') exportCsv() {}
 */
export const ConcurrencyLimit = (limit: number, options: ConcurrencyLimitOptions = {}) =>
  applyDecorators(SetMetadata(CONCURRENCY_METADATA, Object.freeze({ ...options, limit })), UseInterceptors(ConcurrencyLimitInterceptor));
