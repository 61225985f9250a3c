import ret from 'ret';
import safeRegex from 'safe-regex2';

/** A node of ret's syntax tree, as far as this check reads it. */
interface Node {
  readonly type: number;
  readonly min?: number;
  readonly max?: number;
  readonly value?: Node;
  readonly options?: readonly (readonly Node[])[];
  readonly stack?: readonly Node[];
}
// ret is CommonJS: its module is the tokenizer, with the node types on it.
const tokenize = ret as unknown as (pattern: string) => Node;
const { types } = ret as unknown as { types: { readonly ROOT: number; readonly GROUP: number; readonly REPETITION: number } };

/** The longest part of a path that route patterns are matched against: longer paths are cut there. */
export const MAX_MATCHED_PATH_LENGTH = 1_024;
/** Most quantifiers one pattern may hold. */
const MAX_REPETITIONS = 10;
/**
 * The most backtracking steps a pattern may take on a path of `MAX_MATCHED_PATH_LENGTH`, estimated
 * as the product of its quantifiers' ranges (an unbounded one ranges over the whole path): two
 * unbounded quantifiers at most, about 2 ms a request in the worst case.
 */
const MAX_BACKTRACKING = 2 ** 20;

/**
 * A route's path pattern compiled, or why it cannot be: not a regular expression, or one that could
 * backtrack catastrophically on a crafted path (a quantifier inside a quantifier, `(a+)+`; a
 * quantified alternation, `(a|ab)*`; more than 10 quantifiers). Such a pattern is refused when the
 * configuration is loaded, never run on a request. The pattern is matched from the start of the
 * path, as if it began with `^`, and without regard to case: Express routes `/TOWNS` to the
 * handler of `/towns`, so a pattern that cared for case would let such a request escape it.
 */
export function compilePathPattern(pattern: unknown): { regex: RegExp } | { problem: string } {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 512) {
    return { problem: 'must be a regular expression of 1 to 512 characters' };
  }
  let regex: RegExp;
  try {
    new RegExp(pattern);
    regex = new RegExp(`^(?:${pattern})`, 'i');
  } catch (error) {
    return { problem: `is not a valid regular expression (${(error as Error).message})` };
  }
  let tree: Node;
  try {
    tree = tokenize(pattern);
  } catch {
    return { problem: 'is not a regular expression this check can read' };
  }
  if (!safeRegex(pattern, { limit: MAX_REPETITIONS }) || quantifiesAlternation(tree)) {
    return {
      problem:
        'could backtrack catastrophically on a crafted path (a quantifier inside a quantifier, a quantified alternation, or more than 10 quantifiers): ' +
        'use a character class ([a-z0-9-]+) instead of (a|b)+ and avoid nested quantifiers',
    };
  }
  if (backtracking(tree) > MAX_BACKTRACKING) {
    return {
      problem:
        'could backtrack too long on a crafted path (more than two unbounded quantifiers such as .* or \\d+): ' +
        'bound the others ([0-9]{1,12}) or match less of the path (^/files/ rather than ^/files/.*-.*\\.csv$)',
    };
  }
  return { regex };
}

/** The product of the ranges of a pattern's quantifiers (see `MAX_BACKTRACKING`). */
function backtracking(token: Node): number {
  let steps = 1;
  if (token.type === types.REPETITION) {
    const max = token.max === undefined || token.max === Infinity ? MAX_MATCHED_PATH_LENGTH : Math.min(token.max, MAX_MATCHED_PATH_LENGTH);
    steps = Math.max(1, max - (token.min ?? 0));
    return token.value ? steps * backtracking(token.value) : steps;
  }
  for (const branch of token.options ?? (token.stack ? [token.stack] : [])) for (const child of branch) steps *= backtracking(child);
  return steps;
}

/** Whether a repetition holds an alternation, which can match one text in several ways. */
function quantifiesAlternation(token: Node, inRepetition = false): boolean {
  if (token.type === types.REPETITION) return token.value !== undefined && quantifiesAlternation(token.value, true);
  if (token.type !== types.ROOT && token.type !== types.GROUP) return false;
  const branches = token.options ?? (token.stack ? [token.stack] : []);
  if (inRepetition && branches.length > 1) return true;
  return branches.some((branch) => branch.some((child) => quantifiesAlternation(child, inRepetition)));
}

/**
 * The path routes are matched on, as routers serve it: the request's path without its query or
 * fragment (and without the scheme and host of an absolute-form target, `GET http://host/towns`),
 * percent-decoded but for `%2F` (`/tow%6Es` is `/towns` to Fastify's router, while `a%2Fb` stays one
 * segment), runs of slashes as one and without a trailing slash (`//towns/` reaches `/towns` where
 * the router ignores them). A path that does not decode is matched as it came. Undefined for a path
 * longer than `MAX_MATCHED_PATH_LENGTH`, which no pattern is run on.
 */
export function matchedPath(url: string): string | undefined {
  let end = url.length;
  for (const mark of ['?', '#']) {
    const at = url.indexOf(mark);
    if (at !== -1 && at < end) end = at;
  }
  let path = url.slice(0, end);
  if (!path.startsWith('/')) {
    const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(path);
    path = authority ? path.slice(authority[0].length) : path;
    if (!path.startsWith('/')) path = `/${path}`;
  }
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path.replace(/%2F/gi, '%252F'));
    } catch {
      // Malformed escapes: matched as sent.
    }
  }
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path.length > MAX_MATCHED_PATH_LENGTH ? undefined : path;
}
