import type { ThrottleRule } from '../engine/rule.interface.js';

/**
 * A rule of a route entry: a complete rule, or fields over the module rule of the same name (as
 * `@Throttle` takes them), or `{ groups: [...], unlimited: true }` for groups that the entry does not
 * limit.
 */
export interface RouteRule<C = unknown> extends ThrottleRule<C> {
  /**
   * Count only requests of these HTTP methods (`GET`, `POST`...).
   * @default every method
   */
  methods?: readonly string[];
  /**
   * A pool shared by every route rule that names the same zone, across entries (the rule's `scope`).
   * @default the entry: each entry counts on its own
   */
  zone?: string;
  /** The rule's `groups` (or, without `groups`, every group no other rule of the entry names) are not limited on this entry. */
  unlimited?: boolean;
}

/**
 * Rules for the HTTP requests whose path matches a regular expression (matched from the start of
 * the path, percent-decoded, without the query). The first entry that matches a request decides its
 * rules: they replace the rules of the handler (module rules and decorators). Paths no entry
 * matches keep their handler's rules.
 *
 * @example
 * { path: '^/towns', rules: [{ name: 'per-second', limit: 1, windowMs: 1_000 }, { groups: ['admin'], unlimited: true }] }
 */
export interface RateLimitRoute<C = unknown> {
  /** A regular expression (see `compilePathPattern` for the ones refused as unsafe). */
  path: string;
  /**
   * What the entry's rules count per (unless a rule has a `zone`), in store keys and reports.
   * @default the path pattern
   */
  name?: string;
  /**
   * Match only requests of these HTTP methods.
   * @default every method
   */
  methods?: readonly string[];
  /** The rules; `[]` limits nothing on the matched paths (bans and lists still apply). */
  rules: readonly RouteRule<C>[];
}
