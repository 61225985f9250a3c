// The `rampart` CLI's error texts: one line each, saying what to do.

export const badDuration = () => 'Give a duration such as 30s, 15m, 1h or 7d, or a number of milliseconds.';

export const badInteger = (min: number, max: number) =>
  max < Number.MAX_SAFE_INTEGER ? `Give a whole number from ${min} to ${max}.` : `Give a whole number of ${min} or more.`;

export const noUrl = () => "no admin API URL: pass --url or set RAMPART_URL to the admin API's root (e.g. http://localhost:3000/rate-limit).";

export const badUrl = (url: string) =>
  `--url must be an http(s) URL of the admin API's root without credentials, query or fragment (e.g. http://localhost:3000/rate-limit), got ${url}.`;

export const noKey = () => 'no admin API key: set RAMPART_ADMIN_KEY (or pass --key).';

export const cannotReach = (url: string, reason: string) => `cannot reach ${url}: ${reason}`;

export const timedOut = (url: string, timeoutMs: number) => `no answer from ${url} within ${timeoutMs} ms (raise --timeout if the app is slow)`;

export const keyRefused = (status: number) => `the admin API refused the key (${status}): check --key or RAMPART_ADMIN_KEY`;

export const storageUnavailable = (detail: string) => `the admin API answered 503 (its storage is unavailable): ${detail}`;

export const invalidRequest = (problems: readonly string[]) => `invalid request: ${problems.join('; ')}`;

export const problemAnswer = (status: number, title: string, detail: string) => `the admin API answered ${status} ${title}: ${detail}`;

export const notAdminApi = (url: string, what: string) =>
  `${url} ${what}, so --url is not the Rampart admin API: give the admin API's root, where the app mounted it (e.g. http://localhost:3000/rate-limit)`;

export const unknownRule = (name: string, names: readonly string[]) =>
  `no rule named ${JSON.stringify(name)}; the rules are ${names.length > 0 ? names.map((n) => JSON.stringify(n)).join(', ') : 'none'}`;

export const inlineRuleNeeded = () => 'Describe the rule with --config FILE, or with --limit N and --window-ms MS (and --algorithm, --burst).';

export const inlineRuleWithConfig = (flags: readonly string[]) =>
  `${flags.join(', ')} ${flags.length === 1 ? 'describes' : 'describe'} a rule inline: give ${flags.length === 1 ? 'it' : 'them'} or --config, not both.`;

export const monitorNeedsTerminal = () => 'monitor draws a live view and needs a terminal; for scripts use `rampart stats --json`.';

export const cannotWrite = (path: string, reason: string) => `cannot write ${path}: ${reason}`;

export const invalidRule = (problems: readonly string[]) => `invalid rule: ${problems.join(' ')}`;

export const invalidConfigFile = (path: string, problems: readonly string[]) =>
  `${path} is not a valid configuration file (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join(' ')}`;

export const badKey = () => 'the admin key holds characters an HTTP header cannot carry (a line break, a space, a non-ASCII character): give the key alone.';

export const repeatedCursor = () => 'the admin API gave the same page cursor twice: stopped listing (the list shown may be incomplete).';
