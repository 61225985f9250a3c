import type { ExecutionContext } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { isThenable } from '../core/thenable.js';
import type { Rampart } from '../engine/rampart.js';
import type { StoreKeyHook } from '../engine/rampart-request.js';
import type { TargetRules } from '../engine/target-rules.js';
import type { Verdict } from '../engine/verdict.js';
import { identityRefusal } from '../engine/verdict-refusal.js';
import { isIdentityError } from '../errors/identity.error.js';
import { grpcForwardingHeaders, grpcPeerAddress, rpcCallOf, type RpcCall } from './rpc-call.js';
import { rpcRateLimitError, type RpcRateLimitError } from './rpc-rate-limit-error.js';

type GrpcRefusalModule = typeof import('./grpc-refusal.js');

/** How a microservice handler is called: a request with a reply, or an event without one. */
export type RpcHandlerKind = 'message' | 'event';

/** The client of one microservice call. */
export interface RpcClient {
  readonly call: RpcCall;
  /** Its address in canonical form, null when unknown. */
  readonly address: string | null;
  /** Its identity: the key resolver's answer, or the address's key. */
  readonly identity: string;
}

/**
 * The microservice adapter of Rampart's engine: counts each call of a `@MessagePattern`,
 * `@EventPattern` or `@GrpcMethod` handler against its handler's rules and refuses it with an
 * `RpcException`: on TCP its error is an `RpcRateLimitError`; on gRPC it ends the call with a status
 * and trailers (`grpc-refusal.ts`). A refused event is dropped: it has no reply to carry the error.
 * Calls on other transports (NATS, Redis, MQTT, RabbitMQ, Kafka) pass untouched: their clients have
 * no address to tell them apart. Loaded on the first microservice call, so that an app without
 * microservices never loads `@nestjs/microservices`, and `@grpc/grpc-js` only with gRPC.
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
    const client = this.identify(context, rules.rules.length > 0);
    if (client === undefined) return true;
    const decide = ({ call, address, identity }: RpcClient) => {
      const verdict = this.rampart.engine.decide({
        target: rules,
        address,
        identity,
        method: call.transport === 'grpc' ? 'GRPC' : kind === 'event' ? 'EVENT' : 'MESSAGE',
        protocol: 'rpc',
        context,
        storeKey,
        skipChecked: true,
      });
      // An admitted call under rules that count outcomes is settled by OutcomeInterceptor once its handler is done; a refused one at once.
      const answer = (v: Verdict<ExecutionContext>) => (
        rules.outcomes && this.rampart.outcomes.hold(context.getArgs(), v, { context, storeKey, protocol: 'rpc' }),
        this.answer(call, v)
      );
      if (!isThenable(verdict)) return answer(verdict);
      // The engine rejects when a hook fails: the group resolver's IdentityError among them.
      return Promise.resolve(verdict).then(answer, (error: unknown) => this.unidentified(call, error));
    };
    return isThenable(client) ? Promise.resolve(client).then(decide) : decide(client);
  }

  /**
   * Who makes a call: its address (the TCP connection's peer; for gRPC the call's peer, or what a
   * trusted proxy forwarded in the call's metadata, as for HTTP) and its identity (the module's
   * `keyResolver`, else the address). Undefined on a transport Rampart does not limit. A key resolver's
   * `IdentityError` refuses the call (`UNAUTHENTICATED`) when something counts it (`counted`).
   */
  identify(context: ExecutionContext, counted = true): RpcClient | Promise<RpcClient> | undefined {
    const call = rpcCallOf(context.getArgs());
    if (call === undefined) return undefined;
    // The refusal of a gRPC call needs grpc-js's Metadata: loaded with the first call, not the first refusal.
    if (call.transport === 'grpc' && this.grpc === undefined) {
      this.grpc = import('./grpc-refusal.js');
      // A failure to load is reported by the refusal that needs it, not as an unhandled rejection.
      this.grpc.catch(() => undefined);
    }
    const { identity } = this.rampart.engine;
    const address =
      call.transport === 'tcp'
        ? identity.clientAddress(identity.peerAddress(call.socket), {})
        : // Forwarding metadata only from a peer `trustProxy.proxies` names: a gRPC server listens on
          // a port of its own, which `hops` (proxies always in front) cannot vouch for.
          identity.clientAddress(grpcPeerAddress(call.call), this.rampart.config.trust?.hops == null ? grpcForwardingHeaders(call.metadata) : {});
    let id: string | Promise<string>;
    try {
      id = identity.identify(context, address, counted);
    } catch (error) {
      return this.unidentified(call, error);
    }
    if (!isThenable(id)) return { call, address, identity: id };
    return Promise.resolve(id).then(
      (resolved) => ({ call, address, identity: resolved }),
      (error: unknown) => this.unidentified(call, error),
    );
  }

  /**
   * Throws the refusal of a call: an `RpcException` whose error is `error` (TCP), or whose error is
   * the gRPC status and trailers (gRPC; asynchronously, once grpc-js is loaded).
   */
  refuse(call: RpcCall, error: RpcRateLimitError): never | Promise<never> {
    if (call.transport === 'tcp') throw new RpcException(error);
    return this.refuseGrpc(error);
  }

  /** Refuses a call whose client could not be identified (an `IdentityError`: `UNAUTHENTICATED`); any other error passes. */
  private unidentified(call: RpcCall, error: unknown): never | Promise<never> {
    if (!isIdentityError(error)) throw error;
    return this.refuse(call, identityRefusal(error));
  }

  private answer(call: RpcCall, verdict: Verdict<ExecutionContext>): true | Promise<never> {
    const error = rpcRateLimitError(verdict, this.rampart.config.errorMessage);
    return error === undefined ? true : this.refuse(call, error);
  }

  private async refuseGrpc(error: RpcRateLimitError): Promise<never> {
    const { grpcRefusal } = await (this.grpc ?? import('./grpc-refusal.js'));
    throw new RpcException(grpcRefusal(error));
  }
}
