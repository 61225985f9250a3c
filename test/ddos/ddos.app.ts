import { Controller, Get, NotFoundException, Param, type ModuleMetadata } from '@nestjs/common';
import { Rampart, RateLimitModule, RateLimitService, type RateLimitModuleOptions } from '../../lib/index.js';
import type { FakeClock } from '../support/fake-clock.js';
import { startApp, type AdapterName, type TestApp } from '../support/http-app.js';

export const ADMIN_KEY = 'ddos-admin-key-0123456789abcdef';
const SECOND = 1_000;

@Controller()
export class ShopController {
  @Get('search') search() {
    return { results: [] };
  }

  /** Only item 1 exists: any other answers 404 (from the handler, after the guard). */
  @Get('items/:id') item(@Param('id') id: string) {
    if (id !== '1') throw new NotFoundException(`No item ${id}.`);
    return { id };
  }
}

/** Six more pages: with `search` and `items/:id`, the 8 endpoints at which the spread signal is full. */
@Controller('pages')
export class PagesController {
  @Get('about') about() {
    return 'about';
  }
  @Get('help') help() {
    return 'help';
  }
  @Get('news') news() {
    return 'news';
  }
  @Get('offers') offers() {
    return 'offers';
  }
  @Get('cart') cart() {
    return 'cart';
  }
  @Get('account') account() {
    return 'account';
  }
}

/** The 8 pages that answer 200, one per endpoint. */
export const PAGES = ['/search', '/items/1', ...['about', 'help', 'news', 'offers', 'cart', 'account'].map((page) => `/pages/${page}`)];

/**
 * An app whose rules never refuse (the flood is told apart by its traffic alone), with DDoS
 * detection at 150 requests a minute per instance and the admin API. The socket peer (loopback) is
 * a trusted proxy: each client picks its address with X-Forwarded-For.
 */
export const ddosModule = (clock: FakeClock, options: RateLimitModuleOptions = {}) => ({
  imports: [
    RateLimitModule.forRoot({
      clock,
      rules: [{ limit: 1_000, windowMs: 60_000 }],
      trustProxy: { proxies: ['loopback'] },
      adminApiKey: ADMIN_KEY,
      admin: {},
      ddos: { threshold: 150, windowMs: 60_000, clientThreshold: 20, scoreThreshold: 0.8, blockDurationMs: 30 * 60 * SECOND },
      ...options,
    }),
  ],
  controllers: [ShopController, PagesController],
});

export const STEADY = '198.51.100.10';
export const HEAVY = '198.51.100.20';
export const bot = (i: number) => `203.0.113.${i + 1}`;
export const BOTS = 10;

const from = (t: TestApp, address: string, path: string) => t.http().get(path).set('X-Forwarded-For', address);

/**
 * The scenario on `flooded` (and the steady client on every app of `apps`): a steady client makes a
 * request every 6 s for a minute; then a heavy but well-behaved client makes 21 requests at once,
 * and 10 bots make 20 requests each, concurrently, for items that do not exist (404). Returns the
 * steady client's statuses.
 */
export async function flood(clock: FakeClock, flooded: TestApp, apps: readonly TestApp[] = [flooded]): Promise<number[]> {
  const steady: number[] = [];
  for (let t = 0; t < 10; t++) {
    steady.push((await from(apps[t % apps.length]!, STEADY, '/search')).status);
    clock.advance(6 * SECOND);
  }
  for (let i = 0; i < 21; i++) expect((await from(flooded, HEAVY, '/search')).status).toBe(200);
  for (let round = 0; round < 20; round++) {
    const statuses = await Promise.all(Array.from({ length: BOTS }, (_, i) => from(flooded, bot(i), `/items/${round * BOTS + i + 2}`).then((r) => r.status)));
    // Not found, or refused once blocked: never let through to a 200.
    for (const status of statuses) expect([404, 429]).toContain(status);
    if (round % 5 === 0) for (const app of apps) steady.push((await from(app, STEADY, '/search')).status);
  }
  await flooded.app.get(Rampart).ddos!.settled();
  return steady;
}

export { from };

/** A started app on `adapter`, listening (supertest would otherwise open a server per request), closed by the spec through `running`. */
export async function listening(adapter: AdapterName, metadata: ModuleMetadata, running: TestApp[]): Promise<TestApp> {
  const t = await startApp(adapter, metadata);
  await t.app.listen(0, '127.0.0.1');
  running.push(t);
  return t;
}

/**
 * Two instances on one shared storage (`instance` starts one): the flood reaches one; its blocks
 * are enforced by both and listed by the other's admin API; an operator's lift on one lets the
 * client in on the other.
 */
export async function sharedBlocks(clock: FakeClock, instance: (clock: FakeClock) => Promise<TestApp>): Promise<void> {
  const a = await instance(clock);
  const b = await instance(clock);
  // The flood reaches instance a; the steady client is served by both in turn.
  const steady = await flood(clock, a, [a, b]);
  expect(steady.every((s) => s === 200)).toBe(true);
  expect(a.app.get(Rampart).ddos!.snapshot()).toMatchObject({ attack: true, suspects: BOTS });
  // b saw no attack (the threshold is per instance), yet enforces a's blocks once it has synced.
  expect(b.app.get(Rampart).ddos!.snapshot()).toMatchObject({ attack: false, suspects: 0 });
  await b.app.get(RateLimitService).syncNow();
  for (let i = 0; i < BOTS; i++) {
    await from(a, bot(i), '/search').expect(429);
    await from(b, bot(i), '/search').expect(429).expect('retry-after', '1800');
  }
  await from(b, STEADY, '/search').expect(200);
  await from(a, STEADY, '/search').expect(200);
  // b's admin API lists them: they live in the shared ban store.
  const listed = await b.http().get('/rate-limit/bans?source=ddos&limit=100').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
  expect((listed.body.items as { key: string }[]).map((ban) => ban.key).sort()).toEqual(Array.from({ length: BOTS }, (_, i) => bot(i)).sort());
  // An operator lifts one on b; a lets that client in again after its sync.
  await b
    .http()
    .delete(`/rate-limit/bans?key=${bot(0)}`)
    .set('Authorization', `Bearer ${ADMIN_KEY}`)
    .expect(200);
  await a.app.get(RateLimitService).syncNow();
  await from(a, bot(0), '/search').expect(200);
  await from(a, bot(1), '/search').expect(429);
}
