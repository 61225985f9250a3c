/**
 * One slot of a limited pool (an open WebSocket connection, a request in flight), held by one
 * instance of the app until it is released or lapses.
 */
export interface Lease {
  /** Unique among every lease (the holder's id and a sequence number). */
  readonly id: string;
  /** The instance holding it: its leases are renewed together, and released together at shutdown. */
  readonly holder: string;
  /** When it lapses unless renewed (epoch ms, the app's clock). */
  readonly expiresAtMs: number;
}

/** What `LeaseStore.acquire` answers. */
export interface LeaseAcquisition {
  /** Whether the lease was taken. */
  readonly acquired: boolean;
  /** Live leases on the key after the call, this one included when it was taken. */
  readonly held: number;
}

/**
 * Where leases live: the pools every instance shares, so that a limit on concurrent connections or
 * requests holds across instances. A lease lapses at its expiry unless its holder renews it, so the
 * slots of an instance that dies without releasing them come free after at most one lease time.
 *
 * Implementations must be exact under concurrency: N concurrent `acquire` calls on one key, from
 * any number of instances, take at most `limit` live leases between them.
 */
export interface LeaseStore {
  /**
   * Takes `lease` on `key` when fewer than `limit` live leases (expiry after `nowMs`) hold it; lapsed
   * leases are dropped on the way.
   */
  acquire(key: string, lease: Lease, limit: number, nowMs: number): Promise<LeaseAcquisition>;
  /** Gives back one lease (nothing when it is gone already). */
  release(key: string, id: string): Promise<void>;
  /** Moves the expiry of every live lease of `holder` to `expiresAtMs` (a lapsed lease stays lapsed). */
  renew(holder: string, nowMs: number, expiresAtMs: number): Promise<void>;
  /** Gives back every lease of `holder` (its shutdown). */
  releaseHolder(holder: string): Promise<void>;
  /** Live leases on `key` at `nowMs`. */
  count(key: string, nowMs: number): Promise<number>;
}
