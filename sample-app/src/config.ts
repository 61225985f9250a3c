/**
 * Settings of the sample app, read once from the environment. Decorators such as `@Throttle` are
 * evaluated when their class is defined, so the values must be known at import time.
 *
 * | Variable                     | Default          | Meaning                                                  |
 * | ---------------------------- | ---------------- | -------------------------------------------------------- |
 * | `PORT`                       | 3000             | HTTP port (0 picks a free one)                           |
 * | `TCP_PORT`                   | `PORT` + 1       | TCP microservice port on 127.0.0.1 (0, the default when `PORT` is 0, picks a free one) |
 * | `RATE_LIMIT_DEFAULT`         | 10               | requests per window on every route                       |
 * | `RATE_LIMIT_WINDOW_MS`       | 60000            | window of the default rule                               |
 * | `RATE_LIMIT_LOGIN`           | 5                | `POST /auth/login` attempts per window                   |
 * | `RATE_LIMIT_LOGIN_WINDOW_MS` | 60000            | window of the login rule                                 |
 * | `MONGO_URL`                  | (memory)         | MongoDB connection string; unset: in-memory storage      |
 * | `MONGO_DB`                   | `rampart_sample` | database used with `MONGO_URL`                           |
 * | `REDIS_URL`                  | (none)           | Redis URL: everything in Redis, or only the counters (and leases) when `MONGO_URL` is set too |
 * | `REDIS_PREFIX`               | `rampart:`       | prefix of every Redis key                                |
 * | `RATE_LIMIT_ADMIN_KEY`       | (no admin API)   | admin API key, at least 16 characters                    |
 * | `ESCALATION_BLOCK_AFTER`     | library default  | violations that start a temporary block (3)              |
 * | `ESCALATION_BLOCK_MS`        | library default  | length of the first block, in ms (900000: 15 min)        |
 * | `ESCALATION_BAN_AFTER`       | library default  | violations within 24 h that ban for good (10; 0 = never) |
 * | `TRUST_PROXY`                | (none)           | proxies whose `X-Forwarded-For` is believed, comma-separated: addresses, CIDR ranges or `loopback` (e.g. `loopback,10.0.0.5`) |
 */
import type { EscalationPolicy } from 'nest-rampart';

export interface Settings {
  readonly port: number;
  /** The TCP microservice's port (on loopback). */
  readonly tcpPort: number;
  readonly defaultLimit: number;
  readonly defaultWindowMs: number;
  readonly loginLimit: number;
  readonly loginWindowMs: number;
  /** Set: Rampart's state lives in MongoDB (and survives restarts); unset: in memory. */
  readonly mongoUrl: string | undefined;
  readonly mongoDb: string;
  /** Set: counters live in Redis, and everything else too unless `mongoUrl` is set. */
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string | undefined;
  /** Set: the admin API is mounted at /rate-limit behind this key. */
  readonly adminApiKey: string | undefined;
  /** Only the fields given in the environment; the library's defaults fill in the rest. */
  readonly escalation: Partial<EscalationPolicy>;
  /** Trusted proxies (`trustProxy.proxies`); empty: only the socket address counts. */
  readonly trustedProxies: readonly string[];
}

/** The admin API refuses shorter keys; checked here too, so the message names the variable. */
const MIN_ADMIN_KEY_LENGTH = 16;

export function readSettings(env: NodeJS.ProcessEnv): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const optionalInteger = (name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(env[name])}`);
      return undefined;
    }
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max?: number): number => optionalInteger(name, min, max) ?? fallback;

  const adminApiKey = text('RATE_LIMIT_ADMIN_KEY');
  if (adminApiKey !== undefined && adminApiKey.length < MIN_ADMIN_KEY_LENGTH) {
    problems.push(`RATE_LIMIT_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters, got ${adminApiKey.length}`);
  }

  const escalation: Partial<EscalationPolicy> = {};
  const blockAfter = optionalInteger('ESCALATION_BLOCK_AFTER', 1);
  const blockMs = optionalInteger('ESCALATION_BLOCK_MS', 1);
  const banAfter = optionalInteger('ESCALATION_BAN_AFTER', 0);
  if (blockAfter !== undefined) escalation.blockAfterViolations = blockAfter;
  if (blockMs !== undefined) escalation.blockDurationMs = blockMs;
  if (banAfter !== undefined) escalation.permanentBanAfter = banAfter;

  const port = integer('PORT', 3000, 0, 65_535);
  const settings: Settings = {
    port,
    tcpPort: integer('TCP_PORT', port === 0 ? 0 : Math.min(port + 1, 65_535), 0, 65_535),
    defaultLimit: integer('RATE_LIMIT_DEFAULT', 10, 1),
    defaultWindowMs: integer('RATE_LIMIT_WINDOW_MS', 60_000, 1),
    loginLimit: integer('RATE_LIMIT_LOGIN', 5, 1),
    loginWindowMs: integer('RATE_LIMIT_LOGIN_WINDOW_MS', 60_000, 1),
    mongoUrl: text('MONGO_URL'),
    mongoDb: text('MONGO_DB') ?? 'rampart_sample',
    redisUrl: text('REDIS_URL'),
    redisPrefix: text('REDIS_PREFIX'),
    adminApiKey,
    escalation,
    trustedProxies: (text('TRUST_PROXY') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
  };
  return { settings, problems };
}

const { settings: loaded, problems } = readSettings(process.env);
if (problems.length > 0) {
  console.error(`sample-app: invalid environment:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

export const settings: Settings = loaded;
