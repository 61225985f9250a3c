import { parseAddress } from '../core/ip/client-address.js';
import { inIpRange, parseIpRange } from '../core/ip/ip-range.js';
import type { Rampart } from '../engine/rampart.js';
import { RAMPART_EVENTS, type BanEvent, type BlockEvent } from '../events/rate-limit-events.js';
import type { BanTarget } from '../storage/ban-store.interface.js';
import { closeClient, onClientClose, sendError, type WsClient } from './ws-client.js';
import { bannedError, blockedError, type WsRateLimitError } from './ws-rate-limit-error.js';

/** Client keys with open sockets remembered (the oldest is forgotten beyond it), and sockets per key. */
const MAX_KEYS = 100_000;
const MAX_SOCKETS_PER_KEY = 1_000;

interface Entry {
  /** The canonical client address, for range bans. */
  readonly address: string | null;
  readonly keys: readonly string[];
}

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
    if (this.entries.has(client) || this.closing.has(client)) return;
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
    if (target.type === 'key') {
      for (const client of [...(this.byKey.get(target.key) ?? [])]) this.close(client, error);
      return;
    }
    const parsed = parseIpRange(target.cidr);
    if (!('range' in parsed)) return;
    for (const [client, { address }] of [...this.entries]) {
      const ip = address === null ? null : parseAddress(address);
      if (ip && inIpRange(ip, parsed.range)) this.close(client, error);
    }
  }

  /** Sends `error`, then closes the socket, once. */
  close(client: WsClient, error: WsRateLimitError): void {
    if (this.closing.has(client)) return;
    this.closing.add(client);
    this.remove(client);
    sendError(client, error);
    closeClient(client, error.message);
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

/**
 * The open WebSocket connections of an app (one registry per Rampart, shared by the handshake gate
 * and the message limiter). A block or ban made on this instance (a message's escalation, an
 * operator, the admin API) closes the client's open sockets at once, not at its next message.
 */
export function wsConnectionsOf(rampart: Pick<Rampart, 'events'>): WsConnections {
  const known = registries.get(rampart);
  if (known) return known;
  const registry = new WsConnections();
  registries.set(rampart, registry);
  rampart.events.listen((name, event) => {
    if (name === RAMPART_EVENTS.ban) registry.closeTarget((event as BanEvent).target, bannedError('banned'));
    else if (name === RAMPART_EVENTS.block) {
      const { target, untilMs, atMs } = event as BlockEvent;
      registry.closeTarget(target, blockedError(untilMs, Math.max(1, Math.ceil((untilMs - atMs) / 1000))));
    }
  });
  return registry;
}
