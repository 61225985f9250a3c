import { escapeControls } from '../core/logger.js';
import { describe, errorText } from './describe.js';

/** Every error text Rampart produces, in one place. Each says how to fix the problem. */

export const RULE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const configurationHeader = (count: number, subject = 'RateLimitModule') => `${subject} is misconfigured (${count} problem${count === 1 ? '' : 's'}):`;

export const notPositiveInteger = (path: string, value: unknown) => `${path} must be a positive integer, got ${describe(value)}.`;

export const notNonNegativeInteger = (path: string, value: unknown) => `${path} must be an integer of 0 or more (milliseconds), got ${describe(value)}.`;

export const unknownAlgorithm = (path: string, value: unknown, names: readonly string[]) =>
  `${path} must be one of ${names.map((n) => `'${n}'`).join(', ')}, got ${describe(value)}.`;

export const badRuleName = (path: string, value: unknown) => `${path} must be 1-64 letters, digits, '_', '-' or '.', got ${describe(value)}.`;

export const duplicateRuleName = (path: string, name: string) => `${path}: two rules are named '${name}'. Give each rule its own name.`;

export const notAFunction = (path: string, value: unknown) => `${path} must be a function, got ${describe(value)}.`;

export const costAboveCapacity = (path: string, cost: number, capacity: number) =>
  `${path} is ${cost}, more than the rule's capacity ${capacity}: such a request could never pass. Lower the cost or raise the limit (or burst).`;

export const burstBelowOne = (path: string, value: unknown) => `${path} must be a positive integer, got ${describe(value)}.`;

export const badStore = (value: unknown) =>
  `store must implement consume(key, rule, nowMs, cost), get(key, rule, nowMs) and reset(key); got ${describe(value)}.`;

export const badBoolean = (path: string, value: unknown) => `${path} must be true or false, got ${describe(value)}.`;

export const badClock = (value: unknown) => `clock must be an object with a now() method returning epoch ms, got ${describe(value)}.`;
export const badLogger = (value: unknown) => `logger must be an object with log(), warn() and error() methods (Nest's Logger is one), got ${describe(value)}.`;

export const incompleteRouteRule = (where: string, name: string) =>
  `${where}: @Throttle rule '${name}' names no module rule, so it needs its own limit and windowMs. Add them, or name one of the module's rules.`;

export const badScope = (path: string, value: unknown) => `${path} must be a non-empty string of at most 128 characters, got ${describe(value)}.`;

export const badErrorMessage = (value: unknown) => `errorMessage must be a string or a function, got ${describe(value)}.`;

export const notNonNegativeCount = (path: string, value: unknown) => `${path} must be an integer of 0 or more, got ${describe(value)}.`;

export const badStorage = (value: unknown, missing: readonly string[]) =>
  `storage must be a RampartStorage (memoryStorage(), mongoStorage(...) or redisStorage(...)) or { counters, records }; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing, got ${describe(value)}.`;

export const badEscalation = (path: string, value: unknown) =>
  `${path} must be an object of escalation settings or false (no escalation), got ${describe(value)}.`;

export const unknownEscalationField = (path: string, field: string, fields: readonly string[]) =>
  `${path} has no setting '${field}'. The settings are ${fields.join(', ')}.`;

export const badMultiplier = (path: string, value: unknown) =>
  `${path} must be a finite number of 1 or more (1 keeps every block the same length), got ${describe(value)}.`;

export const maxBlockBelowBlock = (path: string, max: number, base: number) =>
  `${path}.maxBlockDurationMs (${max}) is shorter than ${path}.blockDurationMs (${base}). Raise the maximum or shorten the block.`;

export const autoBanBelowMaxBlock = (ban: number, maxBlock: number) =>
  `autoBanDurationMs (${ban}) is shorter than escalation.maxBlockDurationMs (${maxBlock}): a ban would end before the blocks that lead to it. Raise autoBanDurationMs, or leave it out to keep bans permanent.`;

export const retentionBelowBanWindow = (path: string, window: number, retention: number) =>
  `${path}.permanentBanWindowMs (${window}) is longer than violationRetentionMs (${retention}): violations would be purged before they count. Raise violationRetentionMs or shorten the window.`;

export const badEvents = (value: unknown) =>
  `events must be an object of callbacks (onViolation, onBlock, onBan, onUnban, onStoreDown, onStoreUp, onAlert), got ${describe(value)}.`;

export const badStoreErrorPolicy = (path: string, value: unknown) =>
  `${path} must be 'allow' (admit requests uncounted while the store is down) or 'deny' (answer 503), got ${describe(value)}.`;

export const badBanEnforcement = (value: unknown) =>
  `enforceBans must be 'all-routes' (bans and lists apply on every route) or 'limited-routes' (only where a rule counts), got ${describe(value)}.`;

export const storeDown = (reason: string, fallback: boolean) =>
  `Rate-limit store unavailable (${reason}): answering by ${fallback ? 'the in-process fallback store (limits hold per instance)' : "each rule's onStoreError policy"} until it answers again.`;

export const badStoreBreaker = (value: unknown) =>
  `storeBreaker must be an object such as { windowMs: 10000, failures: 5, clients: 3 } (mark the store down when 5 calls within 10 s failed for 3 clients or more), got ${describe(value)}.`;

/** A field of an object of options (`stats`, `logging`, `storeBreaker`, `alerts`…) that is not one of its options. */
export const unknownOption = (path: string, field: string, fields: readonly string[]) =>
  `${path}.${field} is not an option; the options are ${fields.join(', ')}.`;

export const breakerClientsAboveFailures = (clients: number, failures: number) =>
  `storeBreaker.clients (${clients}) is more than storeBreaker.failures (${failures}): ${failures} failures can never concern ${clients} clients, so the store would only be marked down when it goes silent. Lower clients or raise failures.`;

export const storeUp = (downForMs: number) => `Rate-limit store available again after ${downForMs} ms.`;

export const storageNotReady = (timeoutMs: number, reason: string, retryMs: number, fallback: boolean) =>
  `Storage not ready after ${timeoutMs} ms (${reason}). Starting without it: requests are answered by ${fallback ? 'the in-process fallback store' : "each rule's onStoreError policy"}, and stored bans and allow/deny lists are not enforced until it is ready. Retrying every ${retryMs} ms.`;

export const storageRequired = (timeoutMs: number, reason: string) =>
  `RateLimitModule: the storage was not ready within storeStartupTimeoutMs (${timeoutMs} ms): ${reason}. Start the database or fix its connection string, raise storeStartupTimeoutMs, or drop requireStore to start without it.`;

export const storagePrepareFailed = (reason: string, retryMs: number) => `Storage still not ready (${reason}). Retrying every ${retryMs} ms.`;

export const storageReady = (afterMs: number) => `Storage ready after ${afterMs} ms: stored bans and allow/deny lists are enforced.`;

export const violationsHeld = (recorded: number, failed: number, dropped: number, capacity: number) =>
  `Wrote ${recorded} violation${recorded === 1 ? '' : 's'} held while the store was down${failed > 0 ? `; ${failed} failed again and were logged` : ''}${dropped > 0 ? `; ${dropped} more were not held (at most ${capacity} are)` : ''}.`;

export const prefixWithResolver = (path: string) =>
  `${path} has both keyResolver and ipv6PrefixLength: a rule counts clients by its own identity or by the network of their IPv6 address, not both. Keep one, or make two rules.`;

export const heldViolationsLost = (count: number) =>
  `${count} violation${count === 1 ? '' : 's'} held in memory could not be written before shutdown: the store is down. They are lost.`;

export const heldViolationsNotWritten = (error: unknown) =>
  `Violations held in memory were not all written before shutdown: ${error instanceof Error ? error.message : String(error)}.`;

export const storeTimedOut = (timeoutMs: number) => `timed out after ${timeoutMs} ms`;

export const statsNotWritten = (error: unknown) =>
  `This instance's statistics summary could not be written to the storage (${errorText(error)}); the stats API leaves it out of the fleet's figures on the other instances until a write succeeds. Retried every stats.reportIntervalMs; logged once until then.`;

export const statsWrittenAgain = () => "This instance's statistics summary is written to the storage again.";

export const storeUnavailableDetail = () => 'The rate-limit store is unavailable, so this request cannot be admitted. Retry in 1 s.';

export const listenerFailed = (event: string, where: string, error: unknown) =>
  `${where} failed on ${event}: ${errorText(error)}. The request was answered as usual.`;

export const violationNotRecorded = (violation: object, error: unknown) =>
  `Violation not recorded (ViolationStore failed twice: ${errorText(error)}): ${escapeControls(JSON.stringify(violation))}`;

export const escalationFailed = (key: string, step: string, error: unknown) =>
  `Escalation of '${escapeControls(key)}' stopped at ${step}: ${errorText(error)}. The request was answered by its rule alone.`;

export const banSyncFailed = (error: unknown) =>
  `Fetching ban and allow/deny-list changes failed: ${errorText(error)}. Retrying at the next interval; other instances' changes are not seen until then.`;

export const startAfterStop = () => 'This Rampart was stopped and cannot start again: create a new one (createRampart) for a new start.';

export const purgeFailed = (error: unknown) => `Purging old violations failed: ${errorText(error)}. Retrying within the hour.`;

export const wideRange = (path: string, cidr: string, min: number) =>
  `${path} ${cidr} is wider than /${min}, the widest ${min === 8 ? 'IPv4' : 'IPv6'} range banned or listed without force: it covers a large part of the Internet (0.0.0.0/0 and ::/0 are every client). Narrow the range, or set force: true if that is what you mean.`;

export const socketPathWithoutHops = (path: string) =>
  `Listening on ${JSON.stringify(path)}, a Unix socket or pipe: its connections have no peer address, so without trustProxy.hops every client is the shared key 'unknown' (counted together, never escalated, matched by no range ban or list). Behind a proxy, set trustProxy: { hops: 1 } so that its forwarded header names the client.`;

export const forwardedWithoutTrust = (peer: string) =>
  `A request from ${peer}, a private or loopback address, carries X-Forwarded-For or Forwarded while trustProxy is off (RAMPART_FORWARDED_WITHOUT_TRUST): if a proxy sits in front of the app, every client behind it shares the proxy's address and its limits (and bans). Set trustProxy: { proxies: ['loopback'] } or the proxy's own address, or { hops: 1 }. Reported once.`;

export const blockedDetail = (untilIso: string, retryAfterSeconds: number) =>
  `Blocked after repeated rate-limit violations until ${untilIso}. Retry in ${retryAfterSeconds} s.`;

export const bannedDetail = () => 'This client is banned. Ask the operator of this service to lift the ban.';

export const denyListedDetail = () => 'Requests from this address are not accepted.';

export const concurrencyLimitedDetail = (name: string, limit: number) =>
  `Concurrency limit '${name}' reached: at most ${limit} call${limit === 1 ? '' : 's'} of this client at once. Retry when one has ended.`;

export const defaultViolationDetail = (rule: string, limit: number, windowMs: number, retryAfterSeconds: number) =>
  `Rate limit '${rule}' exceeded: at most ${limit} request${limit === 1 ? '' : 's'} per ${formatWindow(windowMs)}. Retry in ${retryAfterSeconds} s.`;

function formatWindow(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

// Admin API: configuration.

export const adminNeedsGlobalModule = () =>
  'admin needs RateLimitModule to be global (isGlobal: true, the default): the admin API finds RateLimitService through the global scope. Remove isGlobal: false, or leave admin out.';

export const badAdminApiKey = (value: unknown, path = 'adminApiKey') =>
  `${path} must be a string of at least 16 characters, or a non-empty array of such strings (several keys allow rotation), got ${typeof value === 'string' ? 'a string' : describe(value)}.`;

export const adminApiKeyTooShort = (path: string, length: number, min: number) =>
  `${path} is ${length} character${length === 1 ? '' : 's'} long; an admin API key needs at least ${min}. Use a long random key, e.g. the output of \`openssl rand -base64 32\`.`;

/** How to make a good admin API key, for the messages that refuse one. */
const GENERATE_ADMIN_KEY =
  "Generate one with `node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"` (or `openssl rand -base64 32`).";

export const adminApiKeyWhitespace = (path: string) =>
  `${path} contains whitespace: it could never be sent in \`Authorization: Bearer <key>\` (a space ends the token), and a key pasted with a newline is one mistake away from another. ${GENERATE_ADMIN_KEY}`;

export const adminApiKeyLowVariety = (path: string, distinct: number, min: number) =>
  `${path} has only ${distinct} distinct character${distinct === 1 ? '' : 's'}; an admin API key needs at least ${min} (a repeated or patterned text is guessed first). ${GENERATE_ADMIN_KEY}`;

export const badAdminOptions = (value: unknown) =>
  `admin must be an object ({ path?, guard?, authorize?, routeDecorators?, dashboard? }) to mount the admin API, or left out, got ${describe(value)}.`;

export const badAdminPath = (value: unknown) =>
  `admin.path must be a route prefix of letters, digits, '-', '_', '.', '~' and '/' such as 'rate-limit' or 'ops/rate-limit', got ${describe(value)}.`;

export const badAdminGuard = (value: unknown) => `admin.guard must be a guard class (implementing CanActivate), got ${describe(value)}.`;

export const badAdminAuthorize = (value: unknown) =>
  `admin.authorize must be a function (request, context) => boolean | Promise<boolean> answering true for an operator, got ${describe(value)}.`;

export const badAdminRouteDecorators = (value: unknown) =>
  `admin.routeDecorators must be an array of method decorators for admin.guard to read, such as [Roles(['admin'])], got ${describe(value)}.`;

export const adminGuardAlone = (path: string) =>
  `admin.guard alone cannot tell an operator from anyone else at /${path}: a guard such as Nest's RolesGuard answers true to a route without role metadata, anonymous requests included. ` +
  "Add admin.routeDecorators for the guard to read on every admin route (e.g. routeDecorators: [Roles(['admin'])]), " +
  "or admin.authorize returning true only for an operator (e.g. authorize: (request) => request.user?.roles?.includes('admin') === true).";

export const adminRouteDecoratorsWithoutGuard = () =>
  'admin.routeDecorators are for admin.guard to read, and there is no admin.guard. Set admin.guard to the guard that reads them (e.g. RolesGuard), or leave them out.';

export const adminKeyAndAppAccess = (path: string) =>
  `Both an admin API key and the app's access control (admin.guard or admin.authorize) are set for /${path}: only one of them can decide who is an operator. Remove adminApiKey (and the admin module's apiKey), or admin.guard and admin.authorize.`;

export const adminAccessCheckFailed = (what: string, error: unknown) =>
  `${what} threw on an admin request (${errorText(error)}); answered 403. A guard or check that reads request.user must allow for requests without one.`;

export const adminWithoutCredentials = (path: string) =>
  `The admin API is mounted at /${path} without credentials. Set adminApiKey (in forRoot or the forRootAsync factory) or admin.guard; anonymous access is never allowed. (RateLimitAdminModule also takes its own apiKey.)`;

// Admin API: answers to requests.

export const adminMissingCredentials = () => 'This admin endpoint needs credentials: send `Authorization: Bearer <admin API key>`.';

export const adminInvalidCredentials = () => 'The admin API key is not valid.';

export const adminGuardDenied = () => 'Access to the admin API was denied.';

export const adminInvalidRequest = (problems: readonly string[]) => `The request is invalid: ${problems.join('; ')}.`;

export const adminNoBan = (target: string) => `There is no ban in force for ${target}, and no history to clear.`;

export const adminNoBanInForce = (target: string) =>
  `There is no ban in force for ${target}. Add clearHistory=true to forget its violations and block count anyway.`;

export const adminNoAccessEntry = (kind: string, cidr: string) => `There is no ${kind}-list entry for ${cidr}.`;

export const adminBadCursor = () =>
  'cursor is not one this endpoint returned: pass the nextCursor of the previous page unchanged, with the same filters, or omit it for the first page.';

export const adminExpiryNotInFuture = (nowIso: string) => `expiresAtMs must be in the future (epoch milliseconds after ${nowIso}).`;

export const adminFromNotBeforeTo = () => 'from must be earlier than to.';

export const adminStatsOff = () =>
  "Statistics are off (stats: false in RateLimitModule's options), so there are none to show. Remove stats: false, or give stats options (e.g. stats: { retentionMs: 900_000 }), to turn them on.";

export const adminWindowTooLong = (windowMs: number, retentionMs: number) =>
  `windowMs must be at most ${retentionMs} (stats.retentionMs: how long statistics are kept), got ${windowMs}; raise stats.retentionMs for longer windows`;

export const adminUnknownInstance = (instance: string) =>
  `No instance ${JSON.stringify(instance)} has reported statistics within stats.retentionMs. The instances that have are listed under instances in GET /stats.`;

/** @param timeout Rampart's own timeout text; null for a storage error, whose text stays in the log (it may name hosts, users, databases). */
export const adminStoreUnavailable = (timeout: string | null, retryAfterSeconds: number) =>
  `${timeout === null ? "The rate-limit storage failed (its error is in the server's log)" : `The rate-limit storage did not answer (${timeout})`}. A change may or may not have been made: check with a GET, or retry in ${retryAfterSeconds} s.`;

export const adminStoreFailed = (request: string, reason: string) => `Admin request ${request} failed in the storage: ${reason}. Answered 503.`;

// Admin API: request validation.

export const adminTargetRequired = () => 'give exactly one of key (a client key) or cidr (an address or range)';

export const adminKeyAndCidr = () => 'give key or cidr, not both';

export const adminDurationRequired = (minMs: number, maxMs: number) => `durationMs is required for a temporary ban (${minMs} to ${maxMs} milliseconds)`;

export const adminDurationOnlyTemporary = () => 'durationMs is only for temporary bans; a permanent ban lasts until it is lifted';

export const adminZoneId = (path: string) => `${path} must not carry an IPv6 zone id ('%eth0'): zones are local to one host`;

export const adminBadClientKey = (path: string, max: number) =>
  `${path} must be a client key of 1 to ${max} characters without control characters (longer identities are named by their sha256:... form, as in violations)`;

export const adminBadTime = (path: string) => `${path} must be an ISO 8601 time such as 2030-01-01T00:00:00Z, or epoch milliseconds`;

export const adminBadBoolean = (path: string) => `${path} must be true or false`;

export const adminBadCursorFormat = (path: string) => `${path} must be the nextCursor of a previous page, unchanged`;

// GraphQL, WebSocket connections, leases: in a file of their own.
export * from './protocol-messages.js';

// Alerts: in a file of their own.
export * from './alert-messages.js';

// Prometheus metrics (nest-rampart/metrics): in a file of their own.
export * from './metrics-messages.js';
export * from './logging-messages.js';
export * from './stats-messages.js';
export * from './dashboard-messages.js';
