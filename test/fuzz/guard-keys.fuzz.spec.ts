/**
 * Properties of the guard's client keys through a real app: whatever a key resolver returns
 * (oversized, unicode, control characters, empty) and whatever headers a client sends, the app never
 * answers 5xx, the third request of one identity under a limit of 2 is always refused, and the keys
 * that reach the store stay short.
 */
import { Controller, Get, type ModuleMetadata } from '@nestjs/common';
import { createHash } from 'node:crypto';
import fc from 'fast-check';

import { RateLimitModule } from '../../lib/index.js';
import type { ConsumeResult, StoreRule } from '../../lib/core/rule-decision.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { anyText, fuzzParams } from './fuzz-settings.js';

/** Client keys longer than this are stored hashed (the guard's documented threshold). */
const HASH_THRESHOLD = 128;
/** Longest stored key: the rule/route prefix plus at most HASH_THRESHOLD characters of client key. */
const MAX_STORED_KEY = 256;
const DAY_MS = 86_400_000;

/** A memory store that remembers, in order, every key it was asked to count. */
class RecordingStore extends MemoryRateLimitStore {
  readonly keys: string[] = [];
  override consume(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult {
    this.keys.push(key);
    return super.consume(key, rule, nowMs, cost);
  }
}

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

/** The identity the resolver returns for the next request. */
let identity = '';

function storedClientKey(id: string): string {
  return id.length > HASH_THRESHOLD ? `sha256:${createHash('sha256').update(id).digest('base64url')}` : id;
}

/** Identities of every kind, up to 100 KB. */
const identities: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: anyText(40) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'unknown',
      '127.0.0.1',
      '::1',
      'sha256:x',
      '$gt',
      '__proto__',
      'constructor',
      '\u0000',
      'a'.repeat(HASH_THRESHOLD),
      'a'.repeat(HASH_THRESHOLD + 1),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(anyText(4), fc.integer({ min: 100, max: 100_000 })).map(([unit, n]) => (unit || 'x').repeat(n).slice(0, 100_000)) },
);

/** A value Node's HTTP client will send: tab, visible ASCII, space and Latin-1. */
const headerText = fc.string({
  unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09)).map((c) => String.fromCharCode(c)),
  maxLength: 200,
});
const headerName = fc.oneof(
  fc.constantFrom('x-forwarded-for', 'forwarded', 'x-real-ip', 'x-api-key', 'authorization', 'cookie', 'user-agent', 'accept'),
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
);
const headerSets = fc.dictionary(
  headerName,
  fc.oneof(
    headerText,
    fc.array(fc.ipV4(), { maxLength: 50 }).map((a) => a.join(', ')),
  ),
  { maxKeys: 6 },
);

describe.each(ADAPTERS)('guard keys (property-based) on %s', (adapter) => {
  let app: TestApp;
  let store: RecordingStore;
  const clock = new FakeClock();

  beforeAll(async () => {
    store = new RecordingStore();
    const metadata: ModuleMetadata = {
      imports: [
        RateLimitModule.forRoot({
          rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
          clock,
          store,
          trustProxy: { proxies: ['loopback'] },
          keyResolver: () => identity,
        }),
      ],
      controllers: [PingController],
    };
    app = await startApp(adapter, metadata);
  });
  afterAll(() => app.close());

  /** A fresh start for each run: counters, blocks and the recent violation history all behind us. */
  function nextRun(): void {
    clock.advance(2 * DAY_MS);
    store.keys.length = 0;
  }

  function ping(headers: Record<string, string>) {
    let req = app.http().get('/ping');
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    return req;
  }

  it('never 5xx, never lets a third request of one identity through, and stores short keys', async () => {
    await fc.assert(
      fc.asyncProperty(identities, headerSets, async (id, headers) => {
        nextRun();
        identity = id;
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) statuses.push((await ping(headers)).status);
        expect(statuses).toEqual([200, 200, 429]);

        expect(store.keys).toHaveLength(3);
        const [first] = store.keys;
        for (const key of store.keys) {
          expect(key).toBe(first);
          expect(key.length).toBeLessThanOrEqual(MAX_STORED_KEY);
        }
        // An empty identity means the client address, which the headers decide.
        if (id !== '') expect(first!.endsWith(storedClientKey(id))).toBe(true);
        expect(await store.get(first!, { name: 'default', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' } as StoreRule, clock.now())).not.toBeNull();
      }),
      fuzzParams(150),
    );
  });

  it('identities differing only beyond the hash threshold are counted apart', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText(8).map((s) => (s || 'p').repeat(HASH_THRESHOLD * 2).slice(0, HASH_THRESHOLD + 1)),
        anyText(20),
        anyText(20),
        async (prefix, tailA, tailB) => {
          fc.pre(tailA !== tailB);
          nextRun();
          const a = prefix + tailA;
          const b = prefix + tailB;
          const send = async (id: string) => {
            identity = id;
            return (await ping({})).status;
          };
          expect([await send(a), await send(a), await send(b), await send(b), await send(a), await send(b)]).toEqual([200, 200, 200, 200, 429, 429]);
          const keys = new Set(store.keys);
          expect(keys.size).toBe(2);
          for (const key of keys) expect(key.length).toBeLessThanOrEqual(MAX_STORED_KEY);
        },
      ),
      fuzzParams(60),
    );
  });
});
