import * as messages from '../errors/cli-messages.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { terminalText } from './terminal-text.js';

/** The global options every command that talks to the app takes. */
export interface ConnectionOptions {
  /** The admin API's root (`--url`, `RAMPART_URL`). */
  readonly url?: string;
  /** The admin API key (`--key`, `RAMPART_ADMIN_KEY`). */
  readonly key?: string;
  /** Longest wait for one answer, in milliseconds (`--timeout`). */
  readonly timeout: number;
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

const PROBLEM_TYPE = /^application\/problem\+json\b/i;
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\b/i;

/** Why a connection failed, by the system error code Node's fetch gives as its cause. */
const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

interface Problem {
  readonly status?: unknown;
  readonly title?: unknown;
  readonly detail?: unknown;
  readonly errors?: unknown;
}

/**
 * The admin API over HTTP: every call sends the key as `Authorization: Bearer` (never in the URL),
 * gives up after `timeoutMs`, and turns whatever goes wrong into a one-line CliError: the app out of
 * reach, the key refused, the API's problem details, or an answer that shows `--url` is not the
 * admin API at all.
 */
export class AdminClient {
  /** The root, with a trailing slash, that endpoint paths resolve against. */
  private readonly root: URL;
  /** The root as the user gave it, for messages. */
  readonly url: string;

  constructor(
    url: string,
    private readonly key: string,
    readonly timeoutMs: number,
  ) {
    let root: URL;
    try {
      root = new URL(url);
    } catch {
      throw usageError(messages.badUrl(terminalText(url)));
    }
    if (!/^https?:$/.test(root.protocol) || root.username || root.password || root.search || root.hash) throw usageError(messages.badUrl(terminalText(url)));
    if (!root.pathname.endsWith('/')) root.pathname += '/';
    this.root = root;
    this.url = `${root.origin}${root.pathname.replace(/\/$/, '')}`;
  }

  /** A client from the global options (environment variables already applied by commander). */
  static from(options: ConnectionOptions): AdminClient {
    if (!options.url) throw usageError(messages.noUrl());
    if (!options.key) throw usageError(messages.noKey());
    // A key an HTTP header cannot carry (a pasted newline...) is refused here, without repeating it.
    if (!/^[\x21-\x7e]+$/.test(options.key)) throw usageError(messages.badKey());
    return new AdminClient(options.url, options.key, options.timeout);
  }

  /** `GET path`: the JSON object answered, which must hold every field of `expected`; `signal` abandons it. */
  get<T>(path: string, query: Query, expected: readonly string[], signal?: AbortSignal): Promise<T> {
    return this.request('GET', path, query, undefined, expected, signal) as Promise<T>;
  }

  post<T>(path: string, body: object, expected: readonly string[]): Promise<T> {
    return this.request('POST', path, {}, body, expected) as Promise<T>;
  }

  /** `DELETE path`: the JSON object answered, or undefined for `204 No Content`. */
  delete<T>(path: string, query: Query, expected: readonly string[]): Promise<T | undefined> {
    return this.request('DELETE', path, query, undefined, expected) as Promise<T | undefined>;
  }

  private async request(
    method: string,
    path: string,
    query: Query,
    body: object | undefined,
    expected: readonly string[],
    signal?: AbortSignal,
  ): Promise<unknown> {
    const endpoint = new URL(path, this.root);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) endpoint.searchParams.set(name, String(value));
    const shown = `${endpoint.origin}${endpoint.pathname}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(endpoint, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          accept: 'application/json, application/problem+json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        // A redirect is not followed: the admin API answers where it is mounted, and the key goes nowhere else.
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    const { status } = response;
    const type = response.headers.get('content-type') ?? '';
    if (status === 401 || status === 403) throw new CliError(messages.keyRefused(status), EXIT.permission);
    if (PROBLEM_TYPE.test(type) && status >= 400) throw problemError(status, parseJson(text) as Problem | undefined, shown);
    if (status < 200 || status >= 300) throw notAdminApi(shown, `answered ${status}${response.statusText ? ` ${response.statusText}` : ''}`);
    if (status === 204) return undefined;
    if (!JSON_TYPE.test(type)) throw notAdminApi(shown, `answered ${type ? type.split(';')[0] : 'without a content type'}, not JSON`);
    const parsed = parseJson(text);
    if (parsed === undefined) throw notAdminApi(shown, 'answered text that is not JSON');
    if (typeof parsed !== 'object' || parsed === null || expected.some((field) => !(field in parsed)))
      throw notAdminApi(shown, 'answered JSON of another shape');
    return parsed;
  }

  private unreachable(error: unknown): CliError {
    if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return new CliError(messages.timedOut(this.url, this.timeoutMs), EXIT.unavailable);
    }
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    // Never the error's own message: a request the client could not even build may quote its headers.
    const reason = (code !== undefined ? REASONS[code] : undefined) ?? (typeof cause?.message === 'string' ? cause.message : 'the request could not be sent');
    return new CliError(messages.cannotReach(this.url, terminalText(reason)), EXIT.unavailable);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const notAdminApi = (url: string, what: string) => new CliError(messages.notAdminApi(url, what));

/** The admin API's problem details (RFC 9457) as one line. */
function problemError(status: number, problem: Problem | undefined, url: string): CliError {
  if (problem === undefined || problem === null || typeof problem !== 'object') {
    // A 503 is the storage (or the app) unavailable whatever its body says: 69, as documented.
    if (status === 503) return new CliError(messages.storageUnavailable(''), EXIT.unavailable);
    return notAdminApi(url, `answered ${status} with a problem that is not JSON`);
  }
  const detail = terminalText(typeof problem.detail === 'string' ? problem.detail : '');
  const errors = Array.isArray(problem.errors) ? problem.errors.map(terminalText) : [];
  if (status === 400) return new CliError(messages.invalidRequest(errors.length > 0 ? errors : [detail]));
  if (status === 503) return new CliError(messages.storageUnavailable(detail), EXIT.unavailable);
  // 404, 409, 422 (a configuration file refused, its problems listed): the detail says it, the errors go after it.
  if (status === 404 || status === 409 || status === 422) return new CliError([detail, ...errors].join(' '));
  return new CliError(messages.problemAnswer(status, terminalText(typeof problem.title === 'string' ? problem.title : ''), detail));
}
