import { clientAddressOf, normalizeAddress, parseAddress } from '../core/ip/client-address.js';
import { ConnectionPeers, type ConnectionSource, type PeerSocket } from '../core/ip/connection-peers.js';
import { resolveClientAddress } from '../core/ip/forwarded-address.js';
import type { CompiledTrust } from '../core/ip/trust-proxy.js';
import type { RampartLogger } from '../core/logger.js';
import { isThenable } from '../core/thenable.js';
import { isIdentityError } from '../errors/identity.error.js';
import * as messages from '../errors/messages.js';
import { identityText } from './rampart-request.js';
import type { ClientKeyResolver } from './rule.interface.js';
import type { StoreKeys } from './store-keys.js';

/** Addresses remembered by each cache (emptied when full). */
const CACHE_SIZE = 10_000;

export interface ClientIdentityOptions<C> {
  /** Proxies whose forwarded headers are believed; null: none. */
  readonly trust: CompiledTrust | null;
  readonly keyResolver?: ClientKeyResolver<C>;
  /** Where misconfigurations are reported (once each). */
  readonly logger: RampartLogger;
}

/**
 * Who a client is, the first step of every decision: its address (the socket peer, or what a
 * trusted proxy forwarded), in canonical form, and its identity (a key resolver's answer, or the
 * address).
 */
export class ClientIdentity<C = unknown> {
  /** The peer of each connection of the watched servers, as accepted (see `peerAddress`). */
  readonly peers = new ConnectionPeers();
  private readonly peerAddresses = new Map<string, string | null>();
  private readonly canonicalAddresses = new Map<string, string | null>();
  /** Whether forwarded headers from a private peer without `trustProxy` were reported (once per instance). */
  private warnedForwarded = false;
  /** Peers found public by that check, so that a public client's forwarded headers are not parsed each time. */
  private readonly publicPeers = new Set<string>();

  constructor(
    private readonly options: ClientIdentityOptions<C>,
    private readonly keys: StoreKeys,
  ) {}

  /**
   * Remembers the peer address of every connection `server` accepts, so that a request whose
   * connection was reset before it was decided keeps its address (see `peerAddress`); warns when
   * the server listens on a Unix socket or a pipe, where connections have no peer address, without
   * `trustProxy.hops`. The Nest module watches the app's HTTP server itself.
   */
  watch(server: ConnectionSource): void {
    if (!this.peers.watch(server)) return;
    const check = () => {
      const where = server.address?.();
      if (typeof where === 'string' && this.options.trust?.hops == null) this.options.logger.warn(messages.socketPathWithoutHops(where));
    };
    if (server.listening) check();
    else server.once?.('listening', check);
  }

  /**
   * The peer address of the connection a request came on: its `remoteAddress`, or, once a reset
   * connection has lost it, the address it was accepted with (servers given to `watch`). Undefined
   * for a Unix socket or a pipe, and for a reset connection of a server not watched.
   */
  peerAddress(socket: PeerSocket | undefined): string | undefined {
    return this.peers.peerOf(socket);
  }

  /**
   * The client address in canonical form: the socket peer, or a forwarded address (`Forwarded`,
   * `X-Forwarded-For`, `X-Real-IP`) only when the peer is a trusted proxy; null when unknown. A
   * NAT64 or 6to4 address gives the IPv4 address it carries.
   */
  clientAddress(peer: string | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
    if (this.options.trust !== null || peer === undefined) {
      const resolved = resolveClientAddress(peer, headers, this.options.trust);
      return resolved === null ? null : clientAddressOf(resolved);
    }
    // Without trusted proxies the address depends on the peer alone: parse each peer once.
    let address = this.peerAddresses.get(peer);
    if (address === undefined) {
      const resolved = resolveClientAddress(peer, {}, null);
      address = resolved === null ? null : clientAddressOf(resolved);
      if (this.peerAddresses.size >= CACHE_SIZE) this.peerAddresses.clear();
      this.peerAddresses.set(peer, address);
    }
    if (!this.warnedForwarded && (headers['x-forwarded-for'] !== undefined || headers['forwarded'] !== undefined)) this.checkForwarded(address);
    return address;
  }

  /**
   * A private or loopback peer that sends forwarded headers while `trustProxy` is off is almost
   * always a proxy nobody told Rampart about: every client behind it shares its address (and
   * escalates to a ban together). Reported once.
   */
  private checkForwarded(address: string | null): void {
    if (address === null || this.publicPeers.has(address)) return;
    const range = parseAddress(address)?.range();
    if (range !== 'private' && range !== 'loopback' && range !== 'uniqueLocal' && range !== 'linkLocal') {
      if (this.publicPeers.size >= CACHE_SIZE) this.publicPeers.clear();
      this.publicPeers.add(address);
      return;
    }
    this.warnedForwarded = true;
    this.options.logger.warn(messages.forwardedWithoutTrust(address));
  }

  /**
   * The client's identity: the `keyResolver`'s answer when it gives one, otherwise the address
   * (IPv6 grouped by `ipv6PrefixLength`; `unknown` without one). Synchronous unless the resolver
   * returns a promise. A resolver's `IdentityError` (it cannot tell who the client is) is thrown on
   * when a rule counts the request (`counted`); where only bans and lists are checked (a route
   * without rules), the client is known by its address instead.
   */
  identify(context: C, address: string | null, counted = true): string | Promise<string> {
    const { keyResolver } = this.options;
    if (keyResolver) {
      let resolved: ReturnType<typeof keyResolver>;
      try {
        resolved = keyResolver(context, address);
      } catch (error) {
        return this.unidentified(error, address, counted);
      }
      if (isThenable(resolved))
        return Promise.resolve(resolved).then(
          (value) => identityText(value) ?? this.keys.addressIdentity(address),
          (error: unknown) => this.unidentified(error, address, counted),
        );
      const key = identityText(resolved);
      if (key !== undefined) return key;
    }
    return this.keys.addressIdentity(address);
  }

  /** The identity of a client known by its address alone (see `identify`). */
  addressIdentity(address: string | null): string {
    return this.keys.addressIdentity(address);
  }

  /** A resolver's error: the address's identity for an `IdentityError` where no rule counts; thrown on otherwise. */
  private unidentified(error: unknown, address: string | null, counted: boolean): string {
    if (counted || !isIdentityError(error)) throw error;
    return this.keys.addressIdentity(address);
  }

  /**
   * An address in canonical form (what the lists and range bans match), null when it is not one;
   * the IPv4 address a NAT64 or 6to4 address carries.
   */
  canonicalAddress(address: string): string | null {
    let canonical = this.canonicalAddresses.get(address);
    if (canonical === undefined) {
      const normal = normalizeAddress(address);
      canonical = normal === null ? null : clientAddressOf(normal);
      if (this.canonicalAddresses.size >= CACHE_SIZE) this.canonicalAddresses.clear();
      this.canonicalAddresses.set(address, canonical);
    }
    return canonical;
  }
}
