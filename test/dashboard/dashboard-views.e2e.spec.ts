import type { ExecutionContext } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { ADAPTERS } from '../support/http-app.js';
import { expectCleanRun, launchBrowser, openPage, openView, screenshot, signIn, textOf, waitForText, type InPage, type WatchedPage } from './browser.js';
import { ADMIN_KEY, startDashboardApp, type DashboardApp } from './dashboard.app.js';

const MINUTE = 60_000;

// A browser flow clicks and types through several views: seconds, not the default 5.
jest.setTimeout(20_000);
/** Markup a client or an operator may send as its key or as a ban reason: shown as text, never run. */
const HOSTILE = '<img src=x onerror=window.__pwned=1>';

/** Resolves once `check` holds (the admin API is asked again every few milliseconds), or fails after 2 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not true within 2 s: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Requests from `client` until a request is refused with 403: banned by escalation. */
async function getBanned(t: DashboardApp, client: string): Promise<number[]> {
  const statuses: number[] = [];
  while (statuses.at(-1) !== 403 && statuses.length < 10) statuses.push(await t.from(client));
  await eventually(async () => ((await t.admin('GET', `clients/${client}`)).body as { status: string }).status === 'banned');
  return statuses;
}

/** The rows of a table body, each as its cells' texts. */
const rowsOf = (page: Page, tbody: string): Promise<string[][]> =>
  page.$$eval(`${tbody} tr`, (rows) =>
    rows.map((row) => [...row.querySelectorAll('td')].map((cell) => (cell as unknown as { innerText: string }).innerText.trim())),
  );

/** Fills the ban form (a key or a range; for `minutes`, or permanent) and submits it. */
async function submitBan(page: Page, ban: { key?: string; cidr?: string; minutes?: number; reason: string }): Promise<void> {
  await page.select('#ban-by', ban.cidr === undefined ? 'key' : 'cidr');
  await page.type('#ban-target', ban.cidr ?? ban.key!);
  await page.select('#ban-kind', ban.minutes === undefined ? 'permanent' : 'temporary');
  if (ban.minutes !== undefined) {
    await page.$eval('#ban-duration', (input) => ((input as unknown as { value: string }).value = ''));
    await page.type('#ban-duration', String(ban.minutes));
    await page.select('#ban-duration-unit', String(MINUTE));
  }
  await page.type('#ban-reason', ban.reason);
  await page.click('#ban-form button[type=submit]');
}

const statOf = (page: Page, name: string) => textOf(page, `[data-stat=${name}] strong`);

describe.each(ADAPTERS)('admin dashboard views on %s', (adapter) => {
  let browser: Browser;
  let t: DashboardApp;
  let context: BrowserContext;
  let watched: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  async function open(scenario: Parameters<typeof startDashboardApp>[1] = {}): Promise<void> {
    t = await startDashboardApp(adapter, scenario);
    context = await browser.createBrowserContext();
    watched = await openPage(context);
    page = watched.page;
    await page.goto(t.page);
    await signIn(page, ADMIN_KEY);
    await page.waitForSelector('#view-stats', { visible: true });
  }
  afterEach(async () => {
    await context?.close();
    await t?.close();
  });

  it('shows a client banned by escalation, lifts the ban with one click, and the client is admitted again', async () => {
    await open();
    expect(await getBanned(t, '203.0.113.7')).toEqual([200, 200, 200, 429, 403]);

    await page.click('#stats-form button[type=submit]');
    await waitForText(page, '[data-stat=requests]', '5');
    expect(await statOf(page, 'admitted')).toBe('3');
    expect(await statOf(page, 'limited')).toBe('1');
    expect(await statOf(page, 'banned')).toBe('1');
    expect(await statOf(page, 'blockRate')).toBe('40.0 %');
    expect(await statOf(page, 'violationsPerMinute')).toBe('2.0');
    expect(await rowsOf(page, '#stats-rules')).toEqual([['per-minute', '5', '2', '1']]);
    expect(await rowsOf(page, '#stats-keys')).toEqual([['203.0.113.7', '2']]);
    await screenshot(page, `${adapter}-stats`);

    // The figures refresh on their own.
    expect(await t.from('198.51.100.1')).toBe(200);
    await waitForText(page, '[data-stat=requests]', '6', 5_000);

    await openView(page, 'bans');
    await waitForText(page, '#bans-rows', '203.0.113.7');
    const [ban] = await rowsOf(page, '#bans-rows');
    expect(ban!.slice(0, 3)).toEqual(['203.0.113.7', 'permanent', 'escalation']);
    expect(ban![7]).toBe('in force');
    await screenshot(page, `${adapter}-bans`);

    await page.click('#bans-rows tr[data-target="203.0.113.7"] button.danger');
    await waitForText(page, '#notice', 'Lifted the ban of 203.0.113.7.');
    await waitForText(page, '#bans-rows', 'No bans match.');
    t.clock.advance(MINUTE); // the rule's window, which the client had used up, starts again
    expect(await t.from('203.0.113.7')).toBe(200);

    await page.select('#bans-search-state', '');
    await page.click('#bans-search button[type=submit]');
    await waitForText(page, '#bans-rows', 'lifted');
    await expectCleanRun(watched, ADMIN_KEY);
  });

  it('adds bans and a deny-list entry that real requests then meet', async () => {
    await open();
    await openView(page, 'bans');
    await submitBan(page, { key: '198.51.100.20', reason: 'credential stuffing' });
    await waitForText(page, '#notice', 'Banned 198.51.100.20 (permanent).');
    await waitForText(page, '#bans-rows', 'credential stuffing');
    expect(await t.from('198.51.100.20')).toBe(403);

    await submitBan(page, { cidr: '192.0.2.0/24', minutes: 30, reason: 'noisy range' });
    await waitForText(page, '#notice', 'Banned 192.0.2.0/24 (temporary until 2030-01-01 00:30:00).');
    expect(await t.from('192.0.2.77')).toBe(429);
    await screenshot(page, `${adapter}-bans-added`);

    // A refused request: the problem's detail and every error are shown.
    await submitBan(page, { cidr: '0.0.0.0/0', reason: 'everyone' });
    await waitForText(page, '#error', 'Error 400');
    expect(await textOf(page, '#error')).toMatch(/cidr .*0\.0\.0\.0\/0.*force/);
    expect(await t.from('198.51.100.99')).toBe(200);

    await openView(page, 'lists');
    await page.type('#list-cidr', '198.51.100.30');
    await page.type('#list-note', 'abuse desk ticket 42');
    await page.click('#list-form button[type=submit]');
    await waitForText(page, '#notice', 'Added 198.51.100.30/32 to the deny-list.');
    await waitForText(page, '#lists-rows tr[data-target="deny 198.51.100.30/32"]', 'abuse desk ticket 42');
    expect(await t.from('198.51.100.30')).toBe(403);

    await page.select('#list-kind', 'allow');
    await page.type('#list-cidr', '198.51.100.20');
    await page.type('#list-duration', '2');
    await page.click('#list-form button[type=submit]');
    await waitForText(page, '#notice', 'Added 198.51.100.20/32 to the allow-list until 2030-01-01 0');
    // Allow-listed: the ban of that address no longer applies.
    expect(await t.from('198.51.100.20')).toBe(200);
    await screenshot(page, `${adapter}-lists`);

    await page.click('#lists-rows tr[data-target="deny 198.51.100.30/32"] button.danger');
    await waitForText(page, '#notice', 'Removed 198.51.100.30/32 from the deny-list.');
    await page.waitForSelector('#lists-rows tr[data-target="deny 198.51.100.30/32"]', { hidden: true });
    expect(await rowsOf(page, '#lists-rows')).toEqual([['allow', '198.51.100.20/32', '', expect.stringMatching(/^2030-01-01 0/), 'active', 'Remove']]);
    expect(await t.from('198.51.100.30')).toBe(200);
    // The 400 above, answered and shown, is the only failed load.
    await expectCleanRun(watched, ADMIN_KEY, [400]);
  });

  it('looks a client up: its status, its counters per rule, its violations', async () => {
    await open();
    expect([await t.from('192.0.2.50'), await t.from('192.0.2.50')]).toEqual([200, 200]);
    await openView(page, 'clients');
    await page.type('#client-key', '192.0.2.50');
    await page.click('#client-form button[type=submit]');
    await waitForText(page, '#client-title', '192.0.2.50');
    expect(await textOf(page, '#client-status')).toBe('none');
    const [counter] = await rowsOf(page, '#client-counters');
    expect(counter!.slice(0, 4)).toEqual(['per-minute', expect.stringContaining('ping'), '3', '1']);
    expect(counter![4]).toBe('2030-01-01 00:01:00');
    expect(await rowsOf(page, '#client-violations')).toEqual([['No violations.']]);

    // Over the limit twice: banned; the lookup shows it, and lifts it.
    await getBanned(t, '192.0.2.50');
    await page.click('#client-form button[type=submit]');
    await waitForText(page, '#client-status', 'banned');
    expect(await textOf(page, '#client-facts')).toMatch(/^Ban record\s+permanent ban of 192\.0\.2\.50, in force: 2 violations/);
    expect((await rowsOf(page, '#client-counters'))[0]!.slice(3, 4)).toEqual(['0']);
    expect(await rowsOf(page, '#client-violations')).toHaveLength(2);
    await screenshot(page, `${adapter}-clients`);

    await page.click('#client-lift');
    await waitForText(page, '#notice', 'Lifted the ban of 192.0.2.50.');
    await waitForText(page, '#client-status', 'none');

    // A range's ban decides too, and is the one lifted from here.
    expect((await t.admin('POST', 'bans', { cidr: '192.0.2.0/24', kind: 'permanent', reason: 'bad range' })).status).toBe(201);
    await page.click('#client-form button[type=submit]');
    await waitForText(page, '#client-status', 'banned');
    expect(await textOf(page, '#client-facts')).toMatch(/^Refused by\s+permanent ban of the range 192\.0\.2\.0\/24, in force: bad range/);
    await page.click('#client-lift');
    await waitForText(page, '#notice', 'Lifted the ban of 192.0.2.0/24.');
    await waitForText(page, '#client-status', 'none');

    // Violations list the same, and a key there opens its lookup.
    await openView(page, 'violations');
    await waitForText(page, '#violations-rows', '192.0.2.50');
    const violations = await rowsOf(page, '#violations-rows');
    expect(violations).toHaveLength(2);
    expect(violations[0]!.slice(1)).toEqual(['192.0.2.50', 'per-minute', expect.stringContaining('ping'), 'GET', '4 / 3']);
    await screenshot(page, `${adapter}-violations`);
    await page.click('#violations-rows button.link');
    await page.waitForSelector('#view-clients', { visible: true });
    await waitForText(page, '#client-title', '192.0.2.50');
    await expectCleanRun(watched, ADMIN_KEY);
  });

  it('shows hostile keys and reasons as text, never as markup', async () => {
    // Clients are told apart by a header they choose: their key is whatever they send.
    const keyResolver = (context: ExecutionContext) => context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client'];
    await open({ options: { keyResolver } });
    const statuses: number[] = [];
    while (statuses.at(-1) !== 403 && statuses.length < 10) statuses.push(await t.get('/ping', { 'X-Client': HOSTILE }));
    expect(statuses).toEqual([200, 200, 200, 429, 403]);
    await eventually(async () => ((await t.admin('GET', `clients/${encodeURIComponent(HOSTILE)}`)).body as { status: string }).status === 'banned');

    await page.click('#stats-form button[type=submit]');
    await waitForText(page, '#stats-keys', HOSTILE);

    await openView(page, 'bans');
    await submitBan(page, { key: 'user-42', reason: HOSTILE });
    await waitForText(page, '#notice', 'Banned user-42 (permanent).');
    // The notice comes first; the table is read again after it.
    await waitForText(page, '#bans-rows', 'user-42');
    const bans = await rowsOf(page, '#bans-rows');
    expect(bans.map((row) => [row[0], row[3]])).toEqual(
      expect.arrayContaining([
        ['user-42', HOSTILE],
        [HOSTILE, expect.stringContaining('violations')],
      ]),
    );

    await openView(page, 'violations');
    await waitForText(page, '#violations-rows', HOSTILE);
    await page.click('#violations-rows button.link');
    await waitForText(page, '#client-title', HOSTILE);
    await waitForText(page, '#client-status', 'banned');

    const state = await page.evaluate(() => {
      const inPage = globalThis as unknown as InPage & { document: { querySelectorAll(selector: string): { length: number } } };
      return { pwned: inPage.__pwned, images: inPage.document.querySelectorAll('main img').length };
    });
    expect(state).toEqual({ pwned: undefined, images: 0 });
    await expectCleanRun(watched, ADMIN_KEY);
  });
});
