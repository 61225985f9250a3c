import { parseAddress } from '../core/ip/client-address.js';
import { inIpRange, parseIpRange } from '../core/ip/ip-range.js';
import type { Clock } from '../core/clock.js';
import { isThenable } from '../core/thenable.js';
import type { Rampart } from '../engine/rampart.js';
import type { ProtectionVerdict } from '../protection/protection-verdict.js';
import type { BanTarget } from '../storage/ban-store.interface.js';
import { closeClient, onClientClose, sendError, type WsClient } from './ws-client.js';
import { bannedError, blockedError, type WsRateLimitError } from './ws-rate-limit-error.js';

/** Client keys with open sockets remembered (the oldest is forgotten beyond it), and sockets per key. */
const MAX_KEYS = 100_000;
const MAX_SOCKETS_PER_KEY = 1_000;

interface Entry {
  /** The canonical client address, for range bans. */
  readonly address: string | null;
  readonly keys: string[];
}

/** Keys one socket is known by at most (its address, its handshake identity, those its messages named). */
const MAX_KEYS_PER_SOCKET = 4;

/**
 * The open WebSocket connections of each client (by client key and address key), so that a block
 * or a ban closes them. A socket is known from its first message and forgotten when it closes;
 * bounded in keys and in sockets per key.
 */
export class WsConnections {
  private readonly byKey = new Map<string, Set<WsClient>>();
  private readonly entries = new Map<WsClient, Entry>();
  /** Sockets being closed by Rampart: the error is sent once. */
  private readonly closing = new WeakSet<WsClient>();

  get size(): number {
    return this.entries.size;
  }

  /** Remembers an open socket under its client's keys (the address key and the identity's key). */
  add(client: WsClient, address: string | null, keys: readonly string[]): void {
    if (this.closing.has(client)) return;
    const known = this.entries.get(client);
    if (known) {
      // Known from its handshake: an identity its messages carry (set by the gateway once connected) is added.
      for (const key of keys) if (!known.keys.includes(key)) this.addKey(client, known, key);
      return;
    }
    const distinct = [...new Set(keys)];
    for (const key of distinct) {
      let sockets = this.byKey.get(key);
      if (!sockets) {
        if (this.byKey.size >= MAX_KEYS) this.forgetKey(this.byKey.keys().next().value as string);
        this.byKey.set(key, (sockets = new Set()));
      }
      if (sockets.size >= MAX_SOCKETS_PER_KEY) return;
    }
    for (const key of distinct) this.byKey.get(key)?.add(client);
    this.entries.set(client, { address, keys: distinct });
    onClientClose(client, () => this.remove(client));
  }

  /** Sends `error` to every open socket of the ban's target, then closes it (1008 on ws, a disconnect on socket.io). */
  closeTarget(target: BanTarget, error: WsRateLimitError): void {
    this.recheck(target, () => error);
  }

  /**
   * Asks `verdict` about every open socket of `target` (by the socket's address and keys: the
   * address key first), and closes those it answers with an error.
   */
  recheck(target: BanTarget, verdict: (address: string | null, keys: readonly string[]) => WsRateLimitError | undefined): void {
    const clients = target.type === 'key' ? [...(this.byKey.get(target.key) ?? [])] : this.inRange(target.cidr);
    for (const client of clients) {
      const entry = this.entries.get(client);
      const error = entry && verdict(entry.address, entry.keys);
      if (error) this.close(client, error);
    }
  }

  private inRange(cidr: string): WsClient[] {
    const parsed = parseIpRange(cidr);
    if (!('range' in parsed)) return [];
    const clients: WsClient[] = [];
    for (const [client, { address }] of this.entries) {
      const ip = address === null ? null : parseAddress(address);
      if (ip && inIpRange(ip, parsed.range)) clients.push(client);
    }
    return clients;
  }

  /** Sends `error`, then closes the socket, once. */
  close(client: WsClient, error: WsRateLimitError): void {
    if (this.closing.has(client)) return;
    this.closing.add(client);
    this.remove(client);
    sendError(client, error);
    closeClient(client, error.message);
  }

  private addKey(client: WsClient, entry: Entry, key: string): void {
    if (entry.keys.length >= MAX_KEYS_PER_SOCKET) return;
    let sockets = this.byKey.get(key);
    if (!sockets) {
      if (this.byKey.size >= MAX_KEYS) this.forgetKey(this.byKey.keys().next().value as string);
      this.byKey.set(key, (sockets = new Set()));
    }
    if (sockets.size >= MAX_SOCKETS_PER_KEY) return;
    sockets.add(client);
    entry.keys.push(key);
  }

  private remove(client: WsClient): void {
    const entry = this.entries.get(client);
    if (!entry) return;
    this.entries.delete(client);
    for (const key of entry.keys) {
      const sockets = this.byKey.get(key);
      sockets?.delete(client);
      if (sockets?.size === 0) this.byKey.delete(key);
    }
  }

  private forgetKey(key: string): void {
    for (const client of this.byKey.get(key) ?? []) {
      const entry = this.entries.get(client);
      if (entry && entry.keys.every((k) => k === key)) this.entries.delete(client);
    }
    this.byKey.delete(key);
  }
}

const registries = new WeakMap<object, WsConnections>();

/** The parts of Rampart that tell of bans, blocks and list entries. */
type WatchedRampart = Pick<Rampart, 'events' | 'bans'> & { readonly engine: { readonly clock: Clock } };

/**
 * The open WebSocket connections of an app (one registry per Rampart, shared by the handshake gate
 * and the message limiter). A block or ban made on this instance (a message's escalation, an
 * operator, the admin API) closes the client's open sockets at once, not at its next message. In
 * the module's shadow mode, bans, blocks and list entries are reported, never enforced: no socket
 * is closed for them (the `maxConnections` slots are enforced all the same, see the gate).
 */
export function wsConnectionsOf(rampart: WatchedRampart & { readonly config: { readonly shadow: boolean } }): WsConnections {
  const known = registries.get(rampart);
  if (known) return known;
  const registry = new WsConnections();
  registries.set(rampart, registry);
  if (!rampart.config.shadow) closeOnBans(rampart, registry);
  return registry;
}

/** Closes the sockets a ban, a block or a deny-list entry covers, as soon as it is known. */
function closeOnBans(rampart: WatchedRampart, registry: WsConnections): void {
  rampart.events.subscribe({
    onBan: ({ target }) => registry.closeTarget(target, bannedError('banned')),
    onBlock: ({ target, untilMs, atMs }) => registry.closeTarget(target, blockedError(untilMs, Math.max(1, Math.ceil((untilMs - atMs) / 1000)))),
  });
  // A ban another instance made, or a deny-list entry: the sockets it covers are checked again now.
  rampart.bans.onChange((target) =>
    registry.recheck(target, (address, keys) => {
      const known = rampart.bans.check(keys[keys.length - 1] as string, address, rampart.engine.clock.now(), keys[0]);
      return isThenable(known) ? undefined : standingError(known, rampart.engine.clock.now());
    }),
  );
}

/** The error a socket is closed with for its client's standing, if it is refused. */
function standingError(known: ProtectionVerdict, nowMs: number): WsRateLimitError | undefined {
  switch (known.status) {
    case 'blocked':
      return blockedError(known.untilMs, Math.max(1, Math.ceil((known.untilMs - nowMs) / 1000)));
    case 'banned':
      return bannedError('banned');
    case 'deny-listed':
      return bannedError('deny-listed');
    default:
      return undefined;
  }
}
