import type { ModuleMetadata } from '@nestjs/common';
import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';
import { ours, real, type ThrottlerLib } from '../support/libs.js';
import { advance, useFakeDate } from '../support/time.js';
import { basicApp } from './basic.app.js';
import { namedApp } from './named.app.js';
import { blockApp, commonOptionsApp, headersApp } from './options.app.js';

/** A seeded generator, so that every run replays the same requests. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

interface Scenario {
  readonly app: (lib: ThrottlerLib) => ModuleMetadata;
  readonly paths: readonly string[];
  readonly headers?: ReadonlyArray<Record<string, string>>;
  /** Clock moves to choose from, in ms. */
  readonly moves: readonly number[];
}

const SCENARIOS: Record<string, Scenario> = {
  basic: {
    app: basicApp,
    paths: ['/', '/other', '/strict', '/roomy', '/limited', '/limited/handler', '/open/counted', '/health'],
    moves: [0, 0, 250, 999, 1_000, 5_000, 20_000, 61_000],
  },
  named: {
    app: namedApp,
    paths: ['/', '/no-short', '/few', '/both', '/skip-default'],
    moves: [0, 0, 100, 400, 1_000, 2_500, 10_000],
  },
  options: {
    app: commonOptionsApp,
    paths: ['/', '/per-user', '/shared-a', '/shared-b'],
    headers: [{}, { 'X-Api-Key': 'k1' }, { 'X-User': 'ann' }, { 'X-Internal': 'yes' }, { 'User-Agent': 'Googlebot' }],
    moves: [0, 0, 1_000, 15_000, 30_000],
  },
  block: {
    app: blockApp,
    paths: ['/', '/short-block', '/no-block'],
    moves: [0, 0, 500, 1_000, 2_000, 4_000, 10_000],
  },
  headers: {
    app: headersApp,
    paths: ['/'],
    moves: [0, 0, 300, 1_000, 20_000],
  },
};

/**
 * The same random requests, with the same clock moves, sent to one app built with
 * @nestjs/throttler and one built with nest-rampart/throttler: every status, rate-limit header
 * and body must be the same.
 */
describe.each(ADAPTERS)('transcripts on %s: @nestjs/throttler and nest-rampart/throttler answer alike', (adapter) => {
  let apps: RunningApp[] = [];
  beforeEach(() => useFakeDate());
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.close()));
    apps = [];
    jest.useRealTimers();
  });

  const cases = Object.keys(SCENARIOS).flatMap((name) => [1, 2, 3].map((seed) => [name, seed] as const));

  it.each(cases)('%s, seed %i', async (name, seed) => {
    const scenario = SCENARIOS[name]!;
    apps = [await startApp(adapter, scenario.app(real as unknown as ThrottlerLib)), await startApp(adapter, scenario.app(ours))];
    const next = random(seed);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
    let refused = 0;
    for (let step = 0; step < 120; step++) {
      advance(pick(scenario.moves));
      const path = pick(scenario.paths);
      const headers = scenario.headers ? pick(scenario.headers) : {};
      const [a, b] = await Promise.all(
        apps.map(async (app) => {
          const res = await app.http().get(path).set(headers);
          return { status: res.status, headers: limitHeaders(res), body: res.body as unknown, text: res.text };
        }),
      );
      expect({ step, path, sent: headers, ...b }).toEqual({ step, path, sent: headers, ...a });
      if (a!.status === 429) refused++;
    }
    // The sequences are long enough to reach the limits, not only the happy path.
    expect(refused).toBeGreaterThan(0);
  });
});
