/** Route prefix of the admin API when `admin.path` is not given. */
export const DEFAULT_ADMIN_PATH = 'rate-limit';
/** Injection token of RateLimitAdminModule's options (its `apiKey`). */
export const RATE_LIMIT_ADMIN_OPTIONS = Symbol('nest-rampart:admin-options');
/** Injection token of the checked admin settings. */
export const ADMIN_SETTINGS = Symbol('nest-rampart:admin-settings');
/** Injection token of the admin OpenAPI decoration (done once the swagger package is looked for). */
export const ADMIN_OPENAPI = Symbol('nest-rampart:admin-openapi');
/** Injection token of the dashboard's files, read once at startup (when `admin.dashboard` is on). */
export const DASHBOARD_ASSETS = Symbol('nest-rampart:dashboard-assets');
/** Request property holding who an admin request acts as (set by AdminAuthGuard). */
export const ADMIN_ACTOR = Symbol.for('nest-rampart:admin-actor');
/** Shortest admin API key accepted. */
export const MIN_ADMIN_API_KEY_LENGTH = 16;
/** Fewest distinct characters of an admin API key (`aaaaaaaaaaaaaaaa` has one; a random base64url key of 16 has about 14). */
export const MIN_ADMIN_API_KEY_DISTINCT_CHARACTERS = 8;
/** Page size of list endpoints when `limit` is not given. */
export const DEFAULT_ADMIN_PAGE_LIMIT = 50;
/** Largest page size of list endpoints. */
export const MAX_ADMIN_PAGE_LIMIT = 500;
/** Shortest and longest temporary ban an operator may set. */
export const MIN_BAN_DURATION_MS = 1_000;
export const MAX_BAN_DURATION_MS = 365 * 86_400_000;
/** Longest ban reason and access-list note. */
export const MAX_REASON_LENGTH = 500;
/** Longest client key (longer identities are stored by the guard as `sha256:<base64url>`). */
export { MAX_CLIENT_KEY_LENGTH } from '../engine/store-keys.js';
