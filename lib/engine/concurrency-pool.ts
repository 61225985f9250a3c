import type { LeaseOutcome } from '../protection/lease-keeper.js';
import type { Rampart } from './rampart.js';
import * as messages from '../errors/messages.js';
import { isPositiveInteger, STORE_ERROR_POLICIES } from './rule-resolution.js';
import type { StoreErrorPolicy } from './rule.interface.js';
import { StoreKeys } from './store-keys.js';

/**
 * How many requests or calls of one client may be in flight at once on a handler. Slots are leases
 * in the storage's lease store, so the limit holds across instances.
 */
export interface ConcurrencyLimitOptions {
  /**
   * Names the limit in errors and lease keys. Letters, digits, `_`, `-` and `.`, at most 64 characters.
   * @default 'concurrency'
   */
  name?: string;
  /**
   * Share one pool of slots among every handler that names the same scope, instead of one pool per
   * handler. 1 to 128 characters.
   * @default undefined (per handler)
   */
  scope?: string;
  /**
   * What a request or call gets while the lease store is down (failing, or slower than
   * `storeTimeoutMs`): `'deny'` refuses it (HTTP 503, `UNAVAILABLE`), `'allow'` admits it without a slot.
   * @default 'deny'
   */
  onStoreError?: StoreErrorPolicy;
}

/** A concurrency limit as it applies on one target, checked. */
export interface ConcurrencyPool {
  readonly name: string;
  readonly limit: number;
  readonly onStoreError: StoreErrorPolicy;
  /** `<name>:<scope or target>:`; the client key is appended. */
  readonly keyPrefix: string;
}

/** What `@ConcurrencyLimit` records on a handler or a class. */
export interface ConcurrencyLimitMetadata extends ConcurrencyLimitOptions {
  readonly limit: number;
}

/**
 * Checks a concurrency limit and fills in its defaults. Problems are appended to `problems`; the
 * returned pool is only meaningful when none were added.
 */
export function resolveConcurrencyPool(given: ConcurrencyLimitMetadata, target: string, path: string, problems: string[]): ConcurrencyPool {
  const { limit, name = 'concurrency', scope, onStoreError = 'deny' } = given;
  if (!isPositiveInteger(limit)) problems.push(messages.notPositiveInteger(`${path} limit`, limit));
  if (typeof name !== 'string' || !messages.RULE_NAME_PATTERN.test(name)) problems.push(messages.badRuleName(`${path} name`, name));
  if (scope !== undefined && (typeof scope !== 'string' || scope.length === 0 || scope.length > 128)) problems.push(messages.badScope(`${path} scope`, scope));
  if (!STORE_ERROR_POLICIES.includes(onStoreError)) problems.push(messages.badStoreErrorPolicy(`${path} onStoreError`, onStoreError));
  return Object.freeze({ name, limit, onStoreError, keyPrefix: StoreKeys.prefix(name, scope ?? target) });
}

/**
 * A slot of `pool` for a client (its address and identity), the same for every protocol: none
 * needed (`free`) for an allow-listed client, else the lease store's answer. Banned clients are
 * refused by the rate-limit decision, not here.
 */
export async function acquireSlot<C>(
  rampart: Pick<Rampart<C>, 'engine' | 'bans' | 'leases' | 'config'>,
  pool: ConcurrencyPool,
  address: string | null,
  identity: string,
): Promise<'free' | LeaseOutcome> {
  const keys = rampart.engine.clientKeys(address, identity);
  const known = await rampart.bans.check(keys.clientKey, keys.address, rampart.config.clock.now(), keys.addressKey);
  if (known.status === 'allow-listed') return 'free';
  return rampart.leases.acquire(pool.keyPrefix + keys.clientKey, pool.limit, pool.onStoreError);
}
