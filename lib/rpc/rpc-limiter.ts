import type { ExecutionContext } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { isThenable } from '../core/thenable.js';
import type { Rampart } from '../engine/rampart.js';
import type { StoreKeyHook } from '../engine/rampart-request.js';
import type { TargetRules } from '../engine/target-rules.js';
import type { Verdict } from '../engine/verdict.js';
import { grpcForwardingHeaders, grpcPeerAddress, rpcCallOf, type RpcCall } from './rpc-call.js';
import { rpcRateLimitError, type RpcRateLimitError } from './rpc-rate-limit-error.js';

type GrpcRefusalModule = typeof import('./grpc-refusal.js');

/** How a microservice handler is called: a request with a reply, or an event without one. */
export type RpcHandlerKind = 'message' | 'event';

/**
 * The microservice adapter of Rampart's engine: counts each call of a `@MessagePattern`,
 * `@EventPattern` or `@GrpcMethod` handler against its handler's rules and refuses it with an
 * `RpcException`: on TCP its error is an `RpcRateLimitError`; on gRPC it ends the call with a status
 * and trailers (`grpc-refusal.ts`). A refused event is dropped: it has no reply to carry the error.
 * Calls on other transports (NATS, Redis, MQTT, RabbitMQ, Kafka) pass untouched: their clients have
 * no address to tell them apart. Loaded by the guard on the first microservice call, so that an app
 * without microservices never loads `@nestjs/microservices`, and `@grpc/grpc-js` only with gRPC.
 */
export class RpcLimiter {
  private grpc: Promise<GrpcRefusalModule> | undefined;

  constructor(private readonly rampart: Rampart<ExecutionContext>) {}

  /** Decides one call; resolves true when it is admitted, rejects with an `RpcException` when not. */
  activate(
    context: ExecutionContext,
    rules: TargetRules<ExecutionContext>,
    storeKey: StoreKeyHook<ExecutionContext>,
    kind: RpcHandlerKind,
  ): boolean | Promise<boolean> {
    const call = rpcCallOf(context.getArgs());
    if (call === undefined) return true;
    // The refusal of a gRPC call needs grpc-js's Metadata: loaded with the first call, not the first refusal.
    if (call.transport === 'grpc' && this.grpc === undefined) {
      this.grpc = import('./grpc-refusal.js');
      // A failure to load is reported by the refusal that needs it, not as an unhandled rejection.
      this.grpc.catch(() => undefined);
    }
    const address = this.clientAddress(call);
    const { identity } = this.rampart.engine;
    const id = identity.identify(context, address);
    const decide = (resolved: string) => {
      const verdict = this.rampart.engine.decide({
        target: rules,
        address,
        identity: resolved,
        method: call.transport === 'grpc' ? 'GRPC' : kind === 'event' ? 'EVENT' : 'MESSAGE',
        protocol: 'rpc',
        context,
        storeKey,
        skipChecked: true,
      });
      return isThenable(verdict) ? Promise.resolve(verdict).then((v) => this.answer(call, v)) : this.answer(call, verdict);
    };
    return isThenable(id) ? Promise.resolve(id).then(decide) : decide(id);
  }

  /**
   * The client address of a call: the TCP connection's peer; for gRPC the call's peer, or what a
   * trusted proxy forwarded in the call's metadata (`trustProxy`, as for HTTP).
   */
  private clientAddress(call: RpcCall): string | null {
    const { identity } = this.rampart.engine;
    if (call.transport === 'tcp') return identity.clientAddress(identity.peerAddress(call.socket), {});
    return identity.clientAddress(grpcPeerAddress(call.call), grpcForwardingHeaders(call.metadata));
  }

  private answer(call: RpcCall, verdict: Verdict<ExecutionContext>): true | Promise<never> {
    const error = rpcRateLimitError(verdict, this.rampart.config.errorMessage);
    if (error === undefined) return true;
    if (call.transport === 'tcp') throw new RpcException(error);
    return this.refuseGrpc(error);
  }

  private async refuseGrpc(error: RpcRateLimitError): Promise<never> {
    const { grpcRefusal } = await (this.grpc as Promise<GrpcRefusalModule>);
    throw new RpcException(grpcRefusal(error));
  }
}
