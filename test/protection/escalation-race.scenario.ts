/**
 * Two instances of one app, sharing their storage, escalate the same client key at the same moment:
 * both read its ban record, both count enough violations for a block, both write. One block must
 * come of it (blockCount counts it once), and both instances must answer with that block.
 * Shared by the memory and the Mongo suites.
 */
import { DEFAULT_ESCALATION_POLICY, Rampart, type RampartStorage } from '../../lib/index.js';
import type { ViolationReport } from '../../lib/protection/escalator.js';
import type { Ban } from '../../lib/storage/ban-store.interface.js';
import type { ViolationOutcome } from '../../lib/protection/protection-verdict.js';
import { FakeClock } from '../support/fake-clock.js';
import { startApp, type TestApp } from '../support/http-app.js';
import { protectionModule, violationReport } from './protection.app.js';

export const RACE_TRIALS = 20;
const START = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const POLICY = DEFAULT_ESCALATION_POLICY;

export interface RaceInstance {
  readonly t: TestApp;
  readonly protection: Rampart;
  readonly storage: RampartStorage;
  /** Blocks and bans this instance announced. */
  readonly announced: Ban[];
}

export interface EscalationRaceOptions {
  /** The storage of one instance: each call is a new instance (a new connection, for Mongo). */
  readonly storage: (clock: FakeClock) => RampartStorage;
  /** Trials each test runs. */
  readonly trials?: number;
}

export function escalationRaceSuite(name: string, options: EscalationRaceOptions): void {
  const trials = options.trials ?? RACE_TRIALS;

  describe(`escalation race across two instances: ${name}`, () => {
    let clock: FakeClock;
    let a: RaceInstance;
    let b: RaceInstance;
    let weeks = 0;

    async function instance(): Promise<RaceInstance> {
      const storage = options.storage(clock);
      const announced: Ban[] = [];
      const t = await startApp(
        'express',
        protectionModule({
          clock,
          storage,
          storeTimeoutMs: 10_000,
          events: { onBlock: (event) => void announced.push(event.ban), onBan: (event) => void announced.push(event.ban) },
        }),
      );
      return { t, protection: t.app.get(Rampart), storage, announced };
    }

    beforeEach(async () => {
      // A week after the last test (Mongo suites share a database): nothing of one counts in the next.
      clock = new FakeClock(START + ++weeks * 7 * 24 * 60 * MINUTE);
      a = await instance();
      b = await instance();
    });
    afterEach(async () => {
      await a.t.close();
      await b.t.close();
    });

    const report = (key: string, nowMs: number): ViolationReport => violationReport(key, nowMs, POLICY);

    /** `count` violations of `key` already recorded, from `atMs` on. */
    async function violationsBefore(key: string, count: number, atMs: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        await a.storage.violations.record({ key, rule: 'default', route: 'ProtectedController.data', method: 'GET', hits: 3, limit: 2, atMs: atMs + i });
      }
    }

    /** Both instances record a violation of `key` at the same moment. */
    function race(key: string): Promise<[ViolationOutcome, ViolationOutcome]> {
      const nowMs = clock.now();
      return Promise.all([a.protection.escalator.recordViolation(report(key, nowMs)), b.protection.escalator.recordViolation(report(key, nowMs))]);
    }

    /** One block, announced once, stored with `blockCount`, and answered by both instances. */
    async function expectOneBlock(key: string, outcomes: [ViolationOutcome, ViolationOutcome], blockCount: number, durationMs: number) {
      const nowMs = clock.now();
      const stored = await a.storage.bans.get({ type: 'key', key });
      expect(stored).toMatchObject({ kind: 'temporary', source: 'auto', blockCount, expiresAtMs: nowMs + durationMs });
      const announced = [...a.announced, ...b.announced].filter((ban) => ban.id === `key:${key}`);
      expect(announced.map((ban) => [ban.blockCount, ban.expiresAtMs])).toEqual([[blockCount, nowMs + durationMs]]);
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ action: 'block', untilMs: nowMs + durationMs, ban: { blockCount, version: stored!.version } });
      }
      for (const { protection } of [a, b]) {
        expect(protection.bans.checkKey(key, nowMs)).toMatchObject({ status: 'blocked', untilMs: nowMs + durationMs, ban: { blockCount } });
      }
    }

    it(`writes one first block when both decide it from no record (${trials} trials)`, async () => {
      for (let trial = 0; trial < trials; trial++) {
        const key = `first-${trial}`;
        await violationsBefore(key, POLICY.blockAfterViolations - 1, clock.now() - MINUTE);
        await expectOneBlock(key, await race(key), 1, POLICY.blockDurationMs);
      }
    });

    it(`writes one repeat block when both decide it from the same ended block (${trials} trials)`, async () => {
      for (let trial = 0; trial < trials; trial++) {
        const key = `repeat-${trial}`;
        const nowMs = clock.now();
        // A first block that ended an hour ago, then violations since.
        await a.storage.bans.put(
          {
            target: { type: 'key', key },
            kind: 'temporary',
            reason: 'earlier',
            source: 'auto',
            createdBy: 'rampart',
            expiresAtMs: nowMs - 60 * MINUTE,
            violationCount: 3,
          },
          nowMs - 75 * MINUTE,
        );
        await violationsBefore(key, POLICY.blockAfterViolations - 1, nowMs - 30 * MINUTE);
        await expectOneBlock(key, await race(key), 2, POLICY.blockDurationMs * POLICY.blockMultiplier);
      }
    });
  });
}
