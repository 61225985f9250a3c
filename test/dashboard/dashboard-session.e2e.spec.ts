import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { OperatorHeaderGuard, isOperator } from '../admin/admin.app.js';
import { ADAPTERS } from '../support/http-app.js';
import { expectCleanRun, launchBrowser, openPage, screenshot, signIn, textOf, waitForText, type InPage, type WatchedPage } from './browser.js';
import { ADMIN_KEY, startDashboardApp, type DashboardApp } from './dashboard.app.js';

const WRONG_KEY = 'not-the-admin-key-0123456789';
const KEY_ITEM = 'rampart.adminKey';

// A browser flow signs in, reloads and opens contexts: seconds, not the default 5.
jest.setTimeout(20_000);

/** What the page holds: the stored key, whether anything else is stored, and how much data is shown. */
const pageState = (page: Page) =>
  page.evaluate((item: string) => {
    const inPage = globalThis as unknown as InPage & {
      document: { querySelectorAll(selector: string): { length: number }; cookie: string };
    };
    return {
      storedKey: inPage.sessionStorage.getItem(item),
      localStorage: inPage.localStorage.length,
      cookie: inPage.document.cookie,
      rows: inPage.document.querySelectorAll('tbody tr').length,
      stats: inPage.document.querySelectorAll('[data-stat]').length,
      visibleViews: inPage.document.querySelectorAll('section.view:not([hidden])').length,
    };
  }, KEY_ITEM);

const isVisible = (page: Page, selector: string) => page.$eval(selector, (element) => !(element as unknown as { hidden: boolean }).hidden);

describe.each(ADAPTERS)('admin dashboard sign-in on %s', (adapter) => {
  let browser: Browser;
  let t: DashboardApp;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await t?.close();
  });

  async function openDashboard(): Promise<WatchedPage> {
    const context = await browser.createBrowserContext();
    contexts.push(context);
    const watched = await openPage(context);
    await watched.page.goto(t.page);
    return watched;
  }

  it('serves the page under a strict CSP; the key, typed once, is sent as a Bearer token and kept in sessionStorage only', async () => {
    t = await startDashboardApp(adapter);
    const context = await browser.createBrowserContext();
    contexts.push(context);
    const watched = await openPage(context);
    const { page } = watched;
    const authorizations = new Map<string, string | undefined>();
    page.on('request', (request) => authorizations.set(request.url(), request.headers()['authorization']));

    const response = await page.goto(t.page);
    expect(response!.status()).toBe(200);
    // Only the page's own files, nothing inline, no frame, no <base>, no form sent, no HTML from strings.
    expect(response!.headers()['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
    expect(await isVisible(page, '#login')).toBe(true);
    expect(await isVisible(page, '#nav')).toBe(false);

    await signIn(page, ADMIN_KEY);
    await page.waitForSelector('#view-stats', { visible: true });
    await waitForText(page, '[data-stat=requests]', '0');
    await screenshot(page, `${adapter}-signed-in`);
    expect(await pageState(page)).toMatchObject({ storedKey: ADMIN_KEY, localStorage: 0, cookie: '' });
    expect(await page.cookies()).toEqual([]);
    // The form was never submitted: the page's address is the same.
    expect(page.url()).toBe(t.page);

    const api = [...authorizations].filter(([url]) => !url.includes('/dashboard'));
    expect(api.map(([url]) => new URL(url).pathname)).toEqual(['/rate-limit/bans', '/rate-limit/stats']);
    for (const [, authorization] of api) expect(authorization).toBe(`Bearer ${ADMIN_KEY}`);
    // The page and its files are fetched without the key.
    for (const [url, authorization] of authorizations) if (url.includes('/dashboard')) expect(authorization).toBeUndefined();
    await expectCleanRun(watched, ADMIN_KEY);
  });

  it('refuses a wrong key with a clear message, and shows no data', async () => {
    t = await startDashboardApp(adapter);
    const watched = await openDashboard();
    const { page } = watched;
    await signIn(page, WRONG_KEY);
    await waitForText(page, '#error', 'Error 401');
    expect(await textOf(page, '#error')).toBe('Error 401 The admin API refused this key: The admin API key is not valid. Sign in again.');
    expect(await isVisible(page, '#login')).toBe(true);
    expect(await isVisible(page, '#nav')).toBe(false);
    expect(await pageState(page)).toEqual({ storedKey: null, localStorage: 0, cookie: '', rows: 0, stats: 0, visibleViews: 0 });
    expect(watched.requests.filter((url) => !url.includes('/dashboard')).map((url) => new URL(url).pathname)).toEqual(['/rate-limit/bans']);
    await screenshot(page, `${adapter}-login-refused`);
    await expectCleanRun(watched, WRONG_KEY, [401]);

    // The right key then works.
    await signIn(page, ADMIN_KEY);
    await page.waitForSelector('#view-stats', { visible: true });
    expect(await isVisible(page, '#error')).toBe(false);
  });

  it('keeps the login across a reload, not in a new browser context; sign-out forgets the key and the data', async () => {
    t = await startDashboardApp(adapter);
    expect(await t.from('203.0.113.7')).toBe(200);
    const watched = await openDashboard();
    const { page } = watched;
    await signIn(page, ADMIN_KEY);
    await waitForText(page, '[data-stat=requests]', '1');

    await page.reload();
    await waitForText(page, '[data-stat=requests]', '1');
    expect(await isVisible(page, '#login')).toBe(false);

    const other = await openDashboard();
    await other.page.waitForSelector('#login-key', { visible: true });
    expect(await pageState(other.page)).toMatchObject({ storedKey: null, stats: 0 });

    await page.click('#logout');
    await waitForText(page, '#notice', 'Signed out');
    expect(await isVisible(page, '#login')).toBe(true);
    expect(await pageState(page)).toEqual({ storedKey: null, localStorage: 0, cookie: '', rows: 0, stats: 0, visibleViews: 0 });
    await page.reload();
    await page.waitForSelector('#login-key', { visible: true });
    await expectCleanRun(watched, ADMIN_KEY);
  });

  it('brings the login back when the API refuses the key during a session (401) or denies the operator (403)', async () => {
    t = await startDashboardApp(adapter);
    const watched = await openDashboard();
    const { page } = watched;
    await signIn(page, ADMIN_KEY);
    await page.waitForSelector('#view-stats', { visible: true });
    // As after the key was rotated out.
    await page.evaluate(
      (item: string, key: string) => (globalThis as unknown as { sessionStorage: { setItem(n: string, v: string): void } }).sessionStorage.setItem(item, key),
      KEY_ITEM,
      WRONG_KEY,
    );
    await page.click('#nav button[data-view=bans]');
    await waitForText(page, '#error', 'The admin API refused this key');
    expect(await pageState(page)).toMatchObject({ storedKey: null, rows: 0, stats: 0, visibleViews: 0 });
    await t.close();

    // The app's own access control: a guard that admits only requests with an operator header.
    t = await startDashboardApp(adapter, {
      admin: { guard: OperatorHeaderGuard, authorize: isOperator, dashboard: true },
      options: { adminApiKey: undefined },
      providers: [OperatorHeaderGuard],
    });
    const denied = await openDashboard();
    await signIn(denied.page, ADMIN_KEY);
    await waitForText(denied.page, '#error', 'Error 403');
    expect(await textOf(denied.page, '#error')).toBe('Error 403 The admin API denied access: Access to the admin API was denied. Sign in again.');
    expect(await pageState(denied.page)).toMatchObject({ storedKey: null, rows: 0, stats: 0 });
    await expectCleanRun(denied, ADMIN_KEY, [403]);
  });

  it('works under a global prefix and another admin path: its files and the API are found relative to the page', async () => {
    t = await startDashboardApp(adapter, { admin: { path: 'ops/limits', dashboard: true }, globalPrefix: 'api' });
    expect(t.page).toMatch(/\/api\/ops\/limits\/dashboard$/);
    expect(await t.get('/api/ping', { 'X-Forwarded-For': '203.0.113.7' })).toBe(200);
    const watched = await openDashboard();
    await signIn(watched.page, ADMIN_KEY);
    await waitForText(watched.page, '[data-stat=requests]', '1');
    await watched.page.click('#nav button[data-view=bans]');
    await waitForText(watched.page, '#bans-rows', 'No bans match.');
    const api = watched.requests.filter((url) => !url.includes('/dashboard')).map((url) => new URL(url).pathname);
    expect(new Set(api)).toEqual(new Set(['/api/ops/limits/bans', '/api/ops/limits/stats']));
    await expectCleanRun(watched, ADMIN_KEY);
  });
});
