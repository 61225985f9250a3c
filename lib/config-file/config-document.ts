import { isNode, LineCounter, parseDocument, type Document } from 'yaml';

/** Largest configuration file read, in bytes. */
export const MAX_CONFIG_FILE_BYTES = 262_144;
/** Deepest nesting of flow collections (`[`, `{`) a file may have: parsing deeper ones takes long. */
const MAX_FLOW_DEPTH = 64;

/** A configuration file parsed, with where each of its keys is. */
export interface ConfigDocument {
  /** The file's content as plain data; undefined when it could not be parsed. */
  readonly data: unknown;
  /** Syntax errors, each `file:line:col: message`. */
  readonly problems: readonly string[];
  /**
   * A problem about the value at `path` (an option path: `rules[1].limit`), prefixed with where that
   * value is in the file (`rampart.yaml:12:5: `), or with where its nearest enclosing value is when
   * the key is missing.
   */
  locate(problem: string, path: readonly (string | number)[]): string;
}

/**
 * Parses a YAML (or JSON, which YAML reads too) configuration file's text. Duplicate keys, aliases
 * that expand beyond 100 nodes (a "billion laughs" file) and anything that is not plain data (tags
 * of other types) are problems, each with its line and column.
 */
export function parseConfigDocument(text: string, file: string): ConfigDocument {
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const deep = tooDeep(text);
  if (deep !== undefined)
    return {
      data: undefined,
      problems: [`${file}:${deep.line}:${deep.col}: collections nested deeper than ${MAX_FLOW_DEPTH} levels`],
      locate: (p) => `${file}: ${p}`,
    };
  const document: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, version: '1.2' });
  const problems = [...document.errors, ...document.warnings].map((e) => `${at(e.pos[0])}: ${firstLine(e.message)}`);
  let data: unknown;
  if (document.errors.length === 0) {
    try {
      data = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push(`${file}: ${firstLine((error as Error).message)}`);
    }
  }
  return {
    data,
    problems,
    locate(problem, path) {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
        if (isNode(node) && node.range) return `${at(node.range[0])}: ${problem}`;
      }
      return `${file}: ${problem}`;
    },
  };
}

/** Where `[` and `{` (outside quotes and comments) first nest deeper than `MAX_FLOW_DEPTH`, if they do. */
function tooDeep(text: string): { line: number; col: number } | undefined {
  let depth = 0;
  let line = 1;
  let col = 0;
  let quote = '';
  let comment = false;
  for (const c of text) {
    col++;
    if (c === '\n') {
      line++;
      col = 0;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#') comment = true;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return { line, col };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/**
 * The option path a problem message starts with (`rules[1].limit must be...` gives
 * `['rules', 1, 'limit']`); empty when it starts with none.
 */
export function problemPath(problem: string): (string | number)[] {
  const match = /^[A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_][\w-]*)*/.exec(problem);
  if (!match) return [];
  const path: (string | number)[] = [];
  for (const part of match[0].matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)) path.push(part[2] !== undefined ? Number(part[2]) : part[1]);
  return path;
}
