import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { startApp, type RunningApp } from './consumer-app.js';
import { installApp, packTarball, removeOtherTarballs, type InstalledApp } from './consumer-install.js';

/**
 * Rampart as apps get it: the packed tarball installed (without --legacy-peer-deps) into a Nest 11
 * CommonJS app on Express, the same app on the lowest versions the peer ranges accept, and a Nest 12
 * ES module app on Fastify; each started as a process of its own and sent real requests, on the
 * memory store and on MongoDB through the app's own Mongoose connection (Mongoose 8 for Nest 11,
 * 9 for Nest 12). The installs are kept in .cache/consumers/ and reused (see consumer-install.ts).
 */
const ADMIN_KEY = 'consumer-admin-key-0123456789';
const LIMITED_CLIENT = '198.51.100.1';
const BANNED_CLIENT = '203.0.113.7';
const OTHER_CLIENT = '203.0.113.8';

interface Consumer {
  readonly app: string;
  /** The folder of the app's sources, when they are another app's. */
  readonly sources?: string;
  readonly main: string;
  readonly mongoose: number;
  /** The app has @nestjs/swagger and @nestjs/event-emitter, and reports Rampart's events. */
  readonly extras: boolean;
}

const CONSUMERS: Consumer[] = [
  { app: 'nest11-commonjs', main: 'app.js', mongoose: 8, extras: true },
  { app: 'nest12-esm', main: 'app.mjs', mongoose: 9, extras: false },
  // The Nest 11 app on the lowest versions Rampart's peer ranges accept (@nestjs/swagger 11 needs Nest 11.0.1).
  { app: 'nest11-lowest', sources: 'nest11-commonjs', main: 'app.js', mongoose: 8, extras: true },
];

const installs = new Map<string, InstalledApp>();

// A fresh machine downloads every dependency (about 20 s with a warm registry): generous, but bounded.
beforeAll(async () => {
  const tarball = await packTarball();
  // In parallel: an install mostly waits for the registry.
  const results = await Promise.allSettled(
    CONSUMERS.map(async ({ app, sources }) => {
      const installed = await installApp(app, tarball, sources);
      if (installed.install !== 'reused') process.stderr.write(`consumer app ${app}: ${installed.install} install in ${installed.seconds.toFixed(1)} s\n`);
      installs.set(app, installed);
    }),
  );
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  removeOtherTarballs(tarball);
}, 10 * 60_000);

describe.each(CONSUMERS)('the packed package in $app', (consumer) => {
  it('limits a route (429 with RateLimit headers) and enforces a ban made through the admin API, on the memory store', async () => {
    const app = await start(consumer, { STORAGE: 'memory' });
    try {
      await exercise(app.url);
      if (consumer.extras) await expectAdminInOpenApi(app.url);
    } finally {
      await app.stop();
    }
    if (consumer.extras) expect(app.facts()).toContainEqual({ event: 'rampart.ban', target: { type: 'key', key: BANNED_CLIENT }, source: 'admin' });
  }, 60_000);

  it('installs the rampart command line (node_modules/.bin/rampart), whose bans the app enforces', async () => {
    const rampart = join(installs.get(consumer.app)!.dir, 'node_modules', '.bin', 'rampart');
    const app = await start(consumer, { STORAGE: 'memory' });
    try {
      // Run as a shell would: through the link npm made, its shebang and its mode.
      const cli = (...args: string[]) =>
        promisify(execFile)(rampart, args, { env: { ...process.env, RAMPART_URL: `${app.url}/rate-limit`, RAMPART_ADMIN_KEY: ADMIN_KEY } });
      expect((await cli('bans', 'add', BANNED_CLIENT, '--reason', 'consumer test')).stdout).toBe(`banned ${BANNED_CLIENT} permanently: consumer test\n`);
      expect((await fetch(`${app.url}/limited`, { headers: { 'x-forwarded-for': BANNED_CLIENT } })).status).toBe(403);
      expect((await cli('bans', 'remove', BANNED_CLIENT)).stdout).toBe(`lifted the ban of ${BANNED_CLIENT}\n`);
      expect((await fetch(`${app.url}/limited`, { headers: { 'x-forwarded-for': BANNED_CLIENT } })).status).toBe(200);
    } finally {
      await app.stop();
    }
  }, 60_000);

  describeMongo(`on MongoDB through Mongoose ${consumer.mongoose}`, () => {
    const dbName = uniqueDbName(`consumer_${consumer.app}`);
    let connection: mongoose.Connection;
    beforeAll(async () => {
      connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    });
    afterAll(async () => {
      await connection.dropDatabase();
      await connection.close();
    });

    it('keeps counters and bans in the app’s database', async () => {
      const app = await start(consumer, { STORAGE: 'mongo', MONGO_URL: mongoUrl(), MONGO_DB: dbName });
      try {
        await exercise(app.url);
      } finally {
        await app.stop();
      }
      const db = connection.db!;
      expect(await db.collection('rampart_rate_limits').countDocuments()).toBeGreaterThan(0);
      expect(await db.collection('rampart_bans').countDocuments()).toBe(1);
    }, 60_000);
  });
});

/** The scenario every app goes through: a limit reached, a ban through the admin API, the ban lifted. */
async function exercise(url: string): Promise<void> {
  const get = (client: string) => fetch(`${url}/limited`, { headers: { 'x-forwarded-for': client } });
  const admin = (method: string, path: string, body?: object) =>
    fetch(`${url}/rate-limit${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  const responses: Response[] = [];
  for (let i = 0; i < 4; i++) responses.push(await get(LIMITED_CLIENT));
  expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
  expect(responses[0].headers.get('ratelimit-policy')).toBe('"limited";q=3;w=60');
  expect(responses[0].headers.get('ratelimit')).toMatch(/^"limited";r=2;t=\d+$/);
  expect(Number(responses[3].headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await responses[3].json()).toMatchObject({ status: 429, rule: 'limited', limit: 3, windowMs: 60_000 });

  expect((await fetch(`${url}/rate-limit/bans`, { method: 'POST' })).status).toBe(401);
  expect((await admin('POST', '/bans', { key: BANNED_CLIENT, kind: 'permanent', reason: 'consumer test' })).status).toBe(201);
  const banned = await get(BANNED_CLIENT);
  expect(banned.status).toBe(403);
  expect(await banned.json()).toMatchObject({ status: 403, reason: 'banned' });
  expect((await get(OTHER_CLIENT)).status).toBe(200);

  expect((await admin('DELETE', `/bans?key=${BANNED_CLIENT}`)).status).toBe(200);
  expect((await get(BANNED_CLIENT)).status).toBe(200);
}

async function expectAdminInOpenApi(url: string): Promise<void> {
  const document = (await (await fetch(`${url}/docs-json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/limited', '/rate-limit/bans', '/rate-limit/violations']));
}

function start(consumer: Consumer, env: Record<string, string>): Promise<RunningApp> {
  const installed = installs.get(consumer.app);
  if (!installed) throw new Error(`${consumer.app} is not installed (see the error of beforeAll)`);
  return startApp(installed.dir, consumer.main, { ...env, ADMIN_KEY });
}
