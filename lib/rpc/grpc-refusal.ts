import { Metadata, status } from '@grpc/grpc-js';
import { GRPC_REFUSAL_TRAILERS, type RpcRateLimitCode, type RpcRateLimitError } from './rpc-rate-limit-error.js';

/**
 * The gRPC status of each refusal: a limit or a block is exhausted quota, a ban a refused permission,
 * an outage unavailability, a client that could not be identified an unauthenticated call.
 */
const STATUS_OF: Readonly<Record<RpcRateLimitCode, status>> = Object.freeze({
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  BLOCKED: status.RESOURCE_EXHAUSTED,
  CONCURRENCY_LIMITED: status.RESOURCE_EXHAUSTED,
  BANNED: status.PERMISSION_DENIED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
});

/**
 * What a refused gRPC call ends with, as the error of an `RpcException`: Nest's exception filter
 * passes it to grpc-js, which sends `code` as the status, `details` as its message and `metadata`
 * as the trailers.
 */
export interface GrpcRefusal {
  readonly code: status;
  readonly message: string;
  readonly details: string;
  readonly metadata: Metadata;
}

/** The status and trailers of a refused call. */
export function grpcRefusal(error: RpcRateLimitError): GrpcRefusal {
  const metadata = new Metadata();
  metadata.set(GRPC_REFUSAL_TRAILERS.code, error.code);
  if (error.rule !== undefined) metadata.set(GRPC_REFUSAL_TRAILERS.rule, error.rule);
  if (error.retryAfterSeconds === undefined) {
    metadata.set(GRPC_REFUSAL_TRAILERS.retryPushback, '-1');
  } else {
    metadata.set(GRPC_REFUSAL_TRAILERS.retryAfter, String(error.retryAfterSeconds));
    metadata.set(GRPC_REFUSAL_TRAILERS.retryPushback, String(error.retryAfterSeconds * 1000));
  }
  return { code: STATUS_OF[error.code], message: error.message, details: error.message, metadata };
}
