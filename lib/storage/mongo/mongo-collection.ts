/**
 * What the Mongo stores share: their collection (through a Mongoose model of their schema), the
 * indexes the schema declares, created by `init()` and checked by `verifyIndexes()`, and the retry of
 * a duplicate-key race on a first upsert.
 */
import type { Connection, Model, mongo, Schema } from 'mongoose';
import { StorageSetupError } from '../storage-setup.error.js';
import { checkTime } from '../store-input.js';

/** An index as a store needs it: taken from its schema's `index()` declarations. */
export interface IndexSpec {
  readonly name: string;
  readonly key: Readonly<Record<string, 1 | -1>>;
  /** Set on TTL indexes. */
  readonly expireAfterSeconds?: number;
}

export interface MongoCollectionOptions {
  /** Class name of the store, for messages (`MongoBanStore`). */
  readonly storeName: string;
  /** Prefix of the Mongoose model name; the collection name is appended so that stores on other collections do not clash. */
  readonly modelName: string;
  readonly schema: Schema;
  readonly collectionName: string;
  /** Whether TTL indexes are created as such (`false`: as plain indexes, for servers that refuse TTL). */
  readonly ttlIndex: boolean;
}

interface ListedIndex {
  name?: unknown;
  key?: unknown;
  expireAfterSeconds?: unknown;
}

/** Latest time a BSON Date can hold. */
const MAX_DATE_MS = 8.64e15;

/** A Date for epoch `ms`, clamped to what a Date can hold (for `purgeAt` far in the future). */
export function toDate(ms: number): Date {
  return new Date(Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, ms)));
}

/** A collection name: 1-120 characters, none of `$`, NUL, and not `system.*`. */
export function checkCollectionName(value: unknown, storeName: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[^$\0]{1,120}$/.test(value) || value.startsWith('system.')) {
    throw new TypeError(
      `${storeName}: collectionName must be 1-120 characters without '$' and not start with 'system.', got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}.`,
    );
  }
  return value;
}

/** Whether `error` is MongoDB's duplicate-key error (E11000). */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000;
}

/**
 * Runs a single-document upsert again once when it loses a duplicate-key race: two first upserts
 * of one `_id` at the same moment may both try to insert, and the loser's retry finds the document.
 * `onRetry` lets tests count such races.
 */
export async function retryOnDuplicateKey<T>(operation: () => Promise<T>, onRetry?: () => void): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    onRetry?.();
    return operation();
  }
}

/** A store's collection and its indexes. */
export class MongoCollection<T extends mongo.Document> {
  readonly model: Model<T>;
  readonly collection: mongo.Collection<T>;
  readonly collectionName: string;
  readonly indexes: readonly IndexSpec[];
  private readonly storeName: string;
  private readonly connection: Connection;

  constructor(connection: Connection, options: MongoCollectionOptions) {
    if (connection === null || typeof connection !== 'object' || typeof (connection as Connection).model !== 'function') {
      throw new TypeError(`${options.storeName}: pass a Mongoose Connection (mongoose.createConnection(...), or @InjectConnection() in Nest).`);
    }
    this.storeName = options.storeName;
    this.connection = connection;
    this.collectionName = options.collectionName;
    const modelName = `${options.modelName}:${options.collectionName}`;
    this.model = (connection.models[modelName] as Model<T> | undefined) ?? connection.model<T>(modelName, options.schema, options.collectionName);
    // The native collection: every operation is one driver command, with filters built by the store
    // (no casting, no query sanitising that would rewrite them), and nothing dropped by strict mode.
    this.collection = this.model.collection as unknown as mongo.Collection<T>;
    this.indexes = options.schema.indexes().map(([key, indexOptions]) => {
      const name = indexOptions['name'];
      if (typeof name !== 'string') throw new Error(`${options.storeName}: every index of the schema needs a name.`);
      const expireAfterSeconds = indexOptions['expireAfterSeconds'];
      return {
        name,
        key: key as Record<string, 1 | -1>,
        ...(options.ttlIndex && typeof expireAfterSeconds === 'number' ? { expireAfterSeconds } : {}),
      };
    });
  }

  /**
   * The documents matching `filter`, in `sort` order, at most `limit`. Mongoose queues commands until
   * the connection is open but hands back no cursor meanwhile, so this waits for the connection first.
   */
  async findMany(filter: mongo.Filter<T>, sort: mongo.Sort, limit?: number): Promise<T[]> {
    await this.whenOpen();
    const cursor = this.collection.find(filter).sort(sort);
    if (limit !== undefined) cursor.limit(limit);
    return (await cursor.toArray()) as T[];
  }

  /** Resolves once the connection is open (a native cursor needs it; commands are queued by Mongoose). */
  async whenOpen(): Promise<void> {
    if (this.connection.readyState !== 1) await this.connection.asPromise();
  }

  /**
   * Creates the indexes (a no-op for those already there), then checks them: a conflicting index
   * fails here with the message of `verifyIndexes()`.
   */
  async init(): Promise<void> {
    for (const index of this.indexes) {
      try {
        await this.collection.createIndex(
          index.key,
          index.expireAfterSeconds === undefined ? { name: index.name } : { name: index.name, expireAfterSeconds: index.expireAfterSeconds },
        );
      } catch (error) {
        // MongoDB refuses an index whose name or key is taken with other options (codes 85, 86):
        // report it as verifyIndexes does, with how to fix it.
        const problems = await this.problems().catch(() => []);
        if (problems.length > 0) throw new StorageSetupError(this.message(problems), { cause: error });
        throw new Error(`${this.storeName}: creating index '${index.name}' on collection '${this.collectionName}' failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    await this.verifyIndexes();
  }

  /** Resolves when every index is present with its key and options; otherwise rejects with a StorageSetupError listing each problem and its fix. */
  async verifyIndexes(): Promise<void> {
    const problems = await this.problems();
    if (problems.length > 0) throw new StorageSetupError(this.message(problems));
  }

  private async problems(): Promise<string[]> {
    let listed: ListedIndex[];
    await this.whenOpen();
    try {
      listed = (await this.collection.listIndexes().toArray()) as ListedIndex[];
    } catch (error) {
      // MongoDB answers NamespaceNotFound (26) for a collection that does not exist yet.
      if ((error as { code?: unknown } | null)?.code !== 26) throw error;
      listed = [];
    }
    const problems: string[] = [];
    const drop = (name: unknown) => `db.getCollection('${this.collectionName}').dropIndex('${String(name)}')`;
    for (const index of this.indexes) {
      const wanted = describeIndex(index.key, index.expireAfterSeconds);
      const sameName = listed.filter((found) => found.name === index.name);
      const sameKey = listed.filter((found) => found.name !== index.name && sameKeys(found.key, index.key));
      for (const found of sameName) {
        const actual = describeIndex(found.key, found.expireAfterSeconds);
        if (actual !== wanted) {
          problems.push(`index '${index.name}' is ${actual} but ${wanted} is required: drop it (${drop(index.name)}) and call init() again.`);
        }
      }
      for (const found of sameKey) {
        problems.push(
          `index '${String(found.name)}' has the key of the required index '${index.name}' ${wanted} under another name, so it cannot be created: drop it (${drop(found.name)}) and call init() again.`,
        );
      }
      if (sameName.length === 0 && sameKey.length === 0) {
        problems.push(`index '${index.name}' ${wanted} is missing: call init() on the store to create it.`);
      }
    }
    return problems;
  }

  private message(problems: readonly string[]): string {
    return `${this.storeName}: collection '${this.collectionName}' has ${problems.length} index problem${problems.length === 1 ? '' : 's'}:\n- ${problems.join('\n- ')}`;
  }
}

function keyEntries(key: unknown): Array<[string, number]> {
  if (key === null || typeof key !== 'object') return [];
  return Object.entries(key as Record<string, unknown>).map(([field, direction]) => [field, Number(direction)]);
}

function sameKeys(a: unknown, b: unknown): boolean {
  return JSON.stringify(keyEntries(a)) === JSON.stringify(keyEntries(b));
}

function describeIndex(key: unknown, expireAfterSeconds: unknown): string {
  const fields = keyEntries(key).map(([field, direction]) => `${field}: ${direction}`);
  const ttl = typeof expireAfterSeconds === 'number' ? `, expireAfterSeconds: ${expireAfterSeconds}` : '';
  return `{ key: { ${fields.join(', ')} }${ttl} }`;
}

/** Who a record store is, for MongoRecordStore. */
export interface MongoRecordStoreIdentity {
  /** Class name of the store, for messages (`MongoBanStore`). */
  readonly storeName: string;
  /** Prefix of the Mongoose model name. */
  readonly modelName: string;
  readonly schema: Schema;
  /** Collection used when the options name none. */
  readonly defaultCollectionName: string;
}

/** The options every record store takes about its collection. */
export interface MongoRecordStoreOptions {
  /** @default the store's own (rampart_bans...) */
  readonly collectionName?: string;
  /** Create TTL indexes as such; `false` for servers that refuse them. @default true */
  readonly ttlIndex?: boolean;
}

/**
 * What the record stores share (bans, violations, access lists, statistics, leases, adaptive
 * states): their collection, checked by name, and its indexes, created by `init()` and checked by
 * `verifyIndexes()`; and, for those whose documents expire (`e`), the sweep of expired ones.
 */
export abstract class MongoRecordStore<T extends mongo.Document> {
  protected readonly records: MongoCollection<T>;

  protected constructor(connection: Connection, identity: MongoRecordStoreIdentity, options: MongoRecordStoreOptions) {
    this.records = new MongoCollection<T>(connection, {
      storeName: identity.storeName,
      modelName: identity.modelName,
      schema: identity.schema,
      collectionName: checkCollectionName(options.collectionName, identity.storeName, identity.defaultCollectionName),
      ttlIndex: options.ttlIndex ?? true,
    });
  }

  get collectionName(): string {
    return this.records.collectionName;
  }

  /** The native collection (for tests and operators' tools). */
  get collection(): mongo.Collection<T> {
    return this.records.collection;
  }

  /** Creates the indexes (see the schema), then checks them like `verifyIndexes()`. */
  init(): Promise<void> {
    return this.records.init();
  }

  /** Rejects with a StorageSetupError naming the collection, each missing or conflicting index, and the fix. */
  verifyIndexes(): Promise<void> {
    return this.records.verifyIndexes();
  }

  /** Deletes the documents expired (`e`) at `nowMs`, what the TTL index does: a store's `sweep`, called by `MongoSweeper`. */
  protected async sweepExpired(nowMs: number): Promise<number> {
    checkTime(nowMs, 'nowMs');
    const result = await this.records.collection.deleteMany({ e: { $lte: toDate(nowMs) } } as unknown as mongo.Filter<T>);
    return result.deletedCount;
  }
}
