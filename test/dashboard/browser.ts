import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';

/** Debian's chromium package puts the browser here; `.ci/run` installs it when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the views, for a person to look at (git ignores `.cache/`). */
export const SCREENSHOTS = join(__dirname, '..', '..', '.cache', 'dashboard');

/**
 * The page's globals the tests read, typed here (the tests compile without TypeScript's DOM
 * library). Functions given to `page.evaluate` run in the page: they reach these through
 * `globalThis`, cast to this type.
 */
export interface InPage {
  readonly document: {
    querySelector(selector: string): { readonly innerText: string } | null;
    addEventListener(type: 'securitypolicyviolation', listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
  };
  readonly sessionStorage: { getItem(name: string): string | null };
  readonly localStorage: { readonly length: number };
  readonly __cspViolations: string[];
  readonly __pwned?: unknown;
}

/** A headless Chromium; fails with the reason and the fix when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The dashboard's browser tests drive Chromium at ${CHROMIUM}, which is missing. ` +
        "Install Debian's chromium package: apt-get install --no-install-recommends chromium (.ci/run does it on a fresh machine).",
    );
  }
  // Tests run as root, where Chromium's sandbox cannot start.
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** A page and what it did: every request URL, console errors, uncaught errors, CSP violations. */
export interface WatchedPage {
  readonly page: Page;
  readonly requests: string[];
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  /** The `securitypolicyviolation` events the page saw, as `<directive> <blocked URI>`. */
  cspViolations(): Promise<string[]>;
}

/** Opens a page in `context` (a fresh context: its own sessionStorage) and watches it. */
export async function openPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.evaluateOnNewDocument(() => {
    const seen: string[] = [];
    Object.defineProperty(globalThis, '__cspViolations', { value: seen });
    (globalThis as unknown as InPage).document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  return {
    page,
    requests,
    consoleErrors,
    pageErrors,
    cspViolations: () => page.evaluate(() => [...(globalThis as unknown as InPage).__cspViolations]),
  };
}

/** Signs in on the dashboard's login form with `key`. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.waitForSelector('#login-key', { visible: true });
  await page.type('#login-key', key);
  await page.click('#login-form button[type=submit]');
}

/** Opens a view from the navigation. */
export async function openView(page: Page, view: 'stats' | 'bans' | 'violations' | 'clients' | 'lists'): Promise<void> {
  await page.click(`#nav button[data-view=${view}]`);
  await page.waitForSelector(`#view-${view}`, { visible: true });
}

/** The visible text of the element `selector`. */
export const textOf = (page: Page, selector: string): Promise<string> =>
  page.$eval(selector, (element) => (element as unknown as { innerText: string }).innerText);

/** Waits until the element `selector` shows `text`. */
export async function waitForText(page: Page, selector: string, text: string, timeout = 5_000): Promise<void> {
  try {
    await page.waitForFunction(
      (s: string, t: string) => (globalThis as unknown as InPage).document.querySelector(s)?.innerText.includes(t) ?? false,
      { timeout },
      selector,
      text,
    );
  } catch (error) {
    const shown = await textOf(page, selector).catch(() => '(no such element)');
    throw new Error(`${selector} did not show ${JSON.stringify(text)} within ${timeout} ms; it shows ${JSON.stringify(shown)}`, { cause: error });
  }
}

/** Saves a screenshot of the page as `.cache/dashboard/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
}

/**
 * What every flow must leave: no console error, no uncaught error, no CSP violation, and the key
 * in no request URL (query string or fragment, plain or encoded). `failedLoads`: the statuses of
 * the API's refusals the flow provoked, in order (Chromium logs each failed load as an error).
 */
export async function expectCleanRun(watched: WatchedPage, key: string, failedLoads: readonly number[] = []): Promise<void> {
  expect(watched.consoleErrors.map((text) => /^Failed to load resource: the server responded with a status of (\d+)/.exec(text)?.[1] ?? text)).toEqual(
    failedLoads.map(String),
  );
  expect(watched.pageErrors).toEqual([]);
  expect(await watched.cspViolations()).toEqual([]);
  expectKeyInNoUrl(watched, key);
}

export function expectKeyInNoUrl(watched: WatchedPage, key: string): void {
  expect(watched.requests.length).toBeGreaterThan(0);
  for (const url of [...watched.requests, watched.page.url()]) {
    expect(url).not.toContain(key);
    expect(url).not.toContain(encodeURIComponent(key));
  }
}
