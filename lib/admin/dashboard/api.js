// The admin API, called with the operator's key. The key lives in this tab's sessionStorage only:
// never in a URL, a cookie or localStorage, and it is gone when the tab closes or on sign-out.

const KEY_ITEM = 'rampart.adminKey';

/** The admin API's prefix: this module is served at `<prefix>/dashboard/api.js`. */
const BASE = new URL('../', import.meta.url);

export const session = {
  key: () => sessionStorage.getItem(KEY_ITEM),
  signIn: (key) => sessionStorage.setItem(KEY_ITEM, key),
  signOut: () => sessionStorage.removeItem(KEY_ITEM),
};

/** An answer of the admin API other than a success: its status, and the problem's `detail` and `errors`. */
export class ApiError extends Error {
  constructor(status, problem) {
    const detail = typeof problem?.detail === 'string' ? problem.detail : typeof problem?.message === 'string' ? problem.message : `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.errors = Array.isArray(problem?.errors) ? problem.errors.map(String) : [];
  }

  /** Whether the operator signed out (or in with another key) while the call was under way: its answer is dropped. */
  get stale() {
    return this.status === 0;
  }

  /** Whether the key was refused (401) or the operator denied (403): the login is needed again. */
  get unauthorized() {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * The server's clock minus the browser's, as last seen in the statistics (whose `to` is the
 * server's now): an expiry the API checks against its own clock is computed with it.
 */
let clockOffsetMs = 0;
export const serverNow = () => Date.now() + clockOffsetMs;
export const observeServerTime = (iso) => {
  const ms = Date.parse(iso);
  if (Number.isFinite(ms)) clockOffsetMs = ms - Date.now();
};

/**
 * Calls `<prefix>/<path>` with the key as a Bearer token; answers the JSON body (null for 204).
 * `query` values that are empty or undefined are left out.
 * @throws ApiError for any status but 2xx (a missing key is a 401, without calling)
 */
export async function call(method, path, { query = {}, body } = {}) {
  const key = session.key();
  if (!key) throw new ApiError(401, { detail: 'Sign in with the admin API key.' });
  const url = new URL(path, BASE);
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
  });
  // Signed out meanwhile: nothing of the answer may reach the page.
  if (session.key() !== key) throw new ApiError(0, { detail: 'Signed out.' });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, query) => call('GET', path, { query });
export const post = (path, body) => call('POST', path, { body });
export const remove = (path, query) => call('DELETE', path, { query });
