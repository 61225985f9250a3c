import { isIP } from 'node:net';
import type { PeerSocket } from '../core/ip/connection-peers.js';

type Headers = Record<string, string | string[] | undefined>;

/** What Rampart reads of a `@grpc/grpc-js` `Metadata`: the values of a key. */
export interface GrpcMetadataLike {
  get(key: string): unknown[];
}

/** What Rampart reads of a `@grpc/grpc-js` server call (unary, server-, client- or bidi-streaming). */
export interface GrpcCallLike {
  getPeer(): string;
  readonly cancelled?: boolean;
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/** What Rampart reads of a TCP transport's `TcpContext`: the connection the message came on. */
interface TcpContextLike {
  getSocketRef(): { readonly socket?: PeerSocket; readonly netSocket?: PeerSocket } | undefined;
}

/** A call on a transport Rampart can identify a client on. */
export type RpcCall =
  | { readonly transport: 'grpc'; readonly call: GrpcCallLike; readonly metadata: GrpcMetadataLike }
  | { readonly transport: 'tcp'; readonly socket: PeerSocket | undefined };

/**
 * The call behind a microservice handler's arguments: a gRPC call (`[request, metadata, call]`, as
 * Nest's `ServerGrpc` hands them over), a TCP message (`[data, TcpContext]`), or undefined for
 * another transport (NATS, Redis, MQTT, RabbitMQ, Kafka). Told apart by shape: the arguments come
 * from Nest, the payload in them from the client, and neither is trusted to be well formed.
 */
export function rpcCallOf(args: readonly unknown[]): RpcCall | undefined {
  const [, second, third] = args;
  if (isGrpcCall(third) && isGrpcMetadata(second)) return { transport: 'grpc', call: third, metadata: second };
  if (typeof (second as Partial<TcpContextLike> | null)?.getSocketRef === 'function') {
    const ref = (second as TcpContextLike).getSocketRef();
    return { transport: 'tcp', socket: ref?.netSocket ?? ref?.socket };
  }
  return undefined;
}

function isGrpcCall(value: unknown): value is GrpcCallLike {
  const call = value as Partial<GrpcCallLike> | null;
  return typeof call?.getPeer === 'function' && typeof call.once === 'function';
}

function isGrpcMetadata(value: unknown): value is GrpcMetadataLike {
  return typeof (value as Partial<GrpcMetadataLike> | null)?.get === 'function';
}

/**
 * The peer address of a gRPC call: `getPeer()` without its port (grpc-js gives `127.0.0.1:50051`,
 * `::1:50051`; a bracketed `[::1]:50051` is read too). Undefined for a Unix socket or when grpc-js
 * does not know it (`unknown`): text that is no address counts as an unknown client.
 */
export function grpcPeerAddress(call: GrpcCallLike): string | undefined {
  const peer = call.getPeer();
  if (typeof peer !== 'string') return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  if (bracketed) return bracketed[1];
  // grpc-js appends the port to an IPv6 address without brackets (`2001:db8::5:1234`): the last
  // group is the port whenever what precedes it is an address, read before the whole text is.
  const withPort = /^(.*):\d+$/.exec(peer);
  if (withPort && isIP(withPort[1]) !== 0) return withPort[1];
  return isIP(peer) !== 0 ? peer : undefined;
}

/** The forwarding headers a proxy may have put in a call's metadata, as an HTTP request would carry them. */
const FORWARDING_KEYS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * The forwarding headers of a gRPC call's metadata (`forwarded`, `x-forwarded-for`, `x-real-ip`),
 * for the client address: believed only when the peer is a trusted proxy, exactly as for HTTP.
 * Text values only (a binary value counts as absent); repeated keys are kept in order.
 */
export function grpcForwardingHeaders(metadata: GrpcMetadataLike): Headers {
  let headers: Headers | undefined;
  for (const key of FORWARDING_KEYS) {
    let values: unknown[];
    try {
      values = metadata.get(key);
    } catch {
      continue;
    }
    if (!Array.isArray(values)) continue;
    const text = values.filter((value): value is string => typeof value === 'string');
    if (text.length === 0) continue;
    (headers ??= {})[key] = text.length === 1 ? text[0] : text;
  }
  return headers ?? NO_HEADERS;
}

const NO_HEADERS: Headers = Object.freeze({});
