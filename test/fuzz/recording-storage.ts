import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';

/**
 * A storage whose stores are real stores behind a delegating recorder: every call is passed on
 * unchanged, after its arguments are checked to be what the store interfaces allow. A problem is
 * recorded (not thrown, so it cannot turn into a 500 and hide among other answers) for the test to
 * assert on: an object or array where a string or number is expected, a non-plain object, or an
 * object key starting with `$` (a query operator).
 */
export interface RecordingStorage<S extends RampartStorage> {
  readonly storage: S;
  /** Every problem seen so far, each naming the call. */
  readonly problems: string[];
  /** Calls passed on, per `store.method`. */
  readonly calls: Map<string, number>;
}

type Expected = 'string' | 'number' | 'object' | 'string?' | 'object?';

/** Positional argument types of each store method (see the store interfaces). */
const SIGNATURES: Readonly<Record<string, Readonly<Record<string, readonly Expected[]>>>> = {
  rateLimits: { consume: ['string', 'object', 'number', 'number'], get: ['string', 'object', 'number'], reset: ['string'] },
  bans: {
    put: ['object', 'number'],
    lift: ['object', 'string', 'number', 'object?'],
    get: ['object'],
    list: ['object', 'object'],
    changedSince: ['number', 'number'],
    remove: ['object'],
  },
  violations: {
    record: ['object'],
    list: ['object', 'object'],
    count: ['string', 'number'],
    deleteByKey: ['string'],
    purge: ['number'],
  },
  accessList: { put: ['object', 'number'], remove: ['string', 'string', 'number'], list: ['string?'], changedSince: ['number', 'number'] },
};

/** Fields that, wherever they appear in an argument, hold text (or null for `address`). */
const STRING_FIELDS = new Set([
  'key',
  'cidr',
  'kind',
  'source',
  'reason',
  'note',
  'by',
  'createdBy',
  'liftedBy',
  'cursor',
  'rule',
  'route',
  'method',
  'type',
  'id',
  'name',
  'algorithm',
]);
const NULLABLE_STRING_FIELDS = new Set(['address']);
/** Fields that hold numbers. */
const NUMBER_FIELDS = new Set(['nowMs', 'limit', 'fromMs', 'toMs', 'activeAtMs', 'expiresAtMs', 'durationMs', 'atMs', 'hits', 'sinceMs', 'windowMs']);

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkValue(value: unknown, path: string, problems: string[], depth = 0): void {
  if (depth > 8) {
    problems.push(`${path}: nested deeper than 8 levels`);
    return;
  }
  if (value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value)) {
    if (typeof value === 'number' && !Number.isFinite(value)) problems.push(`${path}: non-finite number ${String(value)}`);
    return;
  }
  if (typeof value !== 'object') {
    problems.push(`${path}: ${typeof value} is not a plain value`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkValue(item, `${path}[${i}]`, problems, depth + 1));
    return;
  }
  if (!isPlainObject(value)) {
    problems.push(`${path}: not a plain object (${(value as object).constructor?.name ?? 'no constructor'})`);
    return;
  }
  for (const [field, item] of Object.entries(value)) {
    const at = `${path}.${field}`;
    if (field.startsWith('$')) problems.push(`${at}: key starting with '$'`);
    if (STRING_FIELDS.has(field) && item !== undefined && typeof item !== 'string' && !(field === 'target' || field === 'limit')) {
      problems.push(`${at}: expected a string, got ${kindOf(item)}`);
    }
    if (NULLABLE_STRING_FIELDS.has(field) && item !== undefined && item !== null && typeof item !== 'string') {
      problems.push(`${at}: expected a string or null, got ${kindOf(item)}`);
    }
    if (NUMBER_FIELDS.has(field) && item !== undefined && typeof item !== 'number') {
      problems.push(`${at}: expected a number, got ${kindOf(item)}`);
    }
    if (field === 'target' && item !== undefined && typeof item !== 'string' && (typeof item !== 'object' || item === null || Array.isArray(item))) {
      problems.push(`${at}: expected a string or a target object, got ${kindOf(item)}`);
    }
    checkValue(item, at, problems, depth + 1);
  }
}

function checkArguments(call: string, expected: readonly Expected[] | undefined, args: unknown[], problems: string[]): void {
  if (expected !== undefined) {
    if (args.length > expected.length) problems.push(`${call}: ${args.length} arguments, at most ${expected.length} expected`);
    expected.forEach((type, i) => {
      const value = args[i];
      const optional = type.endsWith('?');
      if (optional && value === undefined) return;
      const base = type.replace('?', '');
      const actual = kindOf(value);
      if (actual !== base) problems.push(`${call} argument ${i}: expected ${type}, got ${actual}`);
    });
  }
  args.forEach((value, i) => checkValue(value, `${call} argument ${i}`, problems));
}

function wrap<T extends object>(name: string, store: T, problems: string[], calls: Map<string, number>): T {
  const signatures = SIGNATURES[name] ?? {};
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        const call = `${name}.${property}`;
        calls.set(call, (calls.get(call) ?? 0) + 1);
        checkArguments(call, signatures[property], args, problems);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** `storage` with each of its four stores behind a recorder; `init` and `close` pass straight through. */
export function recordingStorage<S extends RampartStorage>(storage: S): RecordingStorage<S> {
  const problems: string[] = [];
  const calls = new Map<string, number>();
  const recorded = {
    rateLimits: wrap('rateLimits', storage.rateLimits, problems, calls),
    bans: wrap('bans', storage.bans, problems, calls),
    violations: wrap('violations', storage.violations, problems, calls),
    accessList: wrap('accessList', storage.accessList, problems, calls),
    ...(storage.init ? { init: () => storage.init!() } : {}),
    ...(storage.close ? { close: () => storage.close!() } : {}),
  } as unknown as S;
  return { storage: recorded, problems, calls };
}
