import ret from 'ret';
import safeRegex from 'safe-regex2';

/** A node of ret's syntax tree, as far as this check reads it. */
interface Node {
  readonly type: number;
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
 * A route's path pattern compiled, or why it cannot be: not a regular expression, or one that could
 * backtrack catastrophically on a crafted path (a quantifier inside a quantifier, `(a+)+`; a
 * quantified alternation, `(a|ab)*`; more than 10 quantifiers). Such a pattern is refused when the
 * configuration is loaded, never run on a request. The pattern is matched from the start of the
 * path, as if it began with `^`.
 */
export function compilePathPattern(pattern: unknown): { regex: RegExp } | { problem: string } {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 512) {
    return { problem: 'must be a regular expression of 1 to 512 characters' };
  }
  let regex: RegExp;
  try {
    new RegExp(pattern);
    regex = new RegExp(`^(?:${pattern})`);
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
  return { regex };
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
 * The path routes are matched on: the request's path without its query, percent-decoded (so that
 * `/tow%6Es` is matched as `/towns`, as the router serves it), cut at `MAX_MATCHED_PATH_LENGTH`.
 * A path that does not decode is matched as it came.
 */
export function matchedPath(url: string): string {
  const end = url.indexOf('?');
  let path = end === -1 ? url : url.slice(0, end);
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      // Malformed escapes: matched as sent.
    }
  }
  return path.length > MAX_MATCHED_PATH_LENGTH ? path.slice(0, MAX_MATCHED_PATH_LENGTH) : path;
}
