import { isIP } from 'node:net';
import type { RampartLogger } from '../core/logger.js';
import { createRampart } from '../engine/rampart.js';
import type { FixedRateLimitRule as RateLimitRule } from '../engine/rule.interface.js';
import type { Verdict } from '../engine/verdict.js';
import { memoryStorage } from '../storage/memory-storage.js';

/** One simulated client hitting one rule. */
export interface Simulation {
  readonly rule: RateLimitRule;
  /** The client: an address (its key as the guard makes it) or an identity. */
  readonly identifier: string;
  readonly requests: number;
  /** Time between two requests, in milliseconds (0: all at once). */
  readonly intervalMs: number;
  /** Which headers the app sends. @default the standard ones only */
  readonly headers?: { readonly standardHeaders?: boolean; readonly legacyHeaders?: boolean };
}

export interface SimulatedRequest {
  /** 1-based. */
  readonly request: number;
  /** Milliseconds since the first request. */
  readonly atMs: number;
  readonly allowed: boolean;
  /** The verdict: admitted, or limited (a rule's own blockDurationMs keeps it limited). */
  readonly outcome: Verdict['outcome'];
  /** A shadow rule admitted a request it would have limited. */
  readonly shadowLimited: boolean;
  /** The headers a client would see, in the order the app writes them. */
  readonly headers: Readonly<Record<string, string>>;
}

const SILENT: RampartLogger = { log() {}, warn() {}, error() {} };
/** Where the simulated clock starts, at the first window boundary from here: runs are reproducible. */
const EPOCH_MS = Date.UTC(2030, 0, 1);
/** What the simulated requests call: the rule counts per target, so one name for all of them. */
const TARGET = 'rampart test';

/**
 * Runs `requests` requests through a real engine (the rule's own algorithm, on a memory store) with
 * a clock advanced by `intervalMs` between them. Escalation is off: what shows is the rule alone
 * (with its own blockDurationMs), not the blocks and bans an app's escalation policy would add. The
 * clock starts at a boundary of the rule's window, so that the first request opens a fresh window
 * and every run of the same simulation answers the same.
 *
 * @throws RateLimitConfigurationError when the rule is invalid
 */
export async function simulate(simulation: Simulation): Promise<SimulatedRequest[]> {
  const { windowMs } = simulation.rule;
  const startMs = Number.isSafeInteger(windowMs) && windowMs > 0 ? Math.ceil(EPOCH_MS / windowMs) * windowMs : EPOCH_MS;
  let nowMs = startMs;
  const rampart = createRampart({
    rules: [simulation.rule],
    clock: { now: () => nowMs },
    storage: memoryStorage(),
    escalation: false,
    stats: false,
    logging: false,
    logger: SILENT,
    ...simulation.headers,
  });
  const client = isIP(simulation.identifier) ? { address: simulation.identifier } : { address: null, identity: simulation.identifier };
  const results: SimulatedRequest[] = [];
  await rampart.start();
  try {
    for (let request = 1; request <= simulation.requests; request++) {
      if (request > 1) nowMs += simulation.intervalMs;
      const verdict = await rampart.decide({ target: TARGET, ...client });
      const headers: Record<string, string> = {};
      rampart.headers.write(verdict, headers, (into, name, value) => (into[name] = value));
      const shadowLimited = verdict.outcome === 'admitted' && verdict.shadow !== undefined;
      results.push({ request, atMs: nowMs - startMs, allowed: verdict.outcome === 'admitted', outcome: verdict.outcome, shadowLimited, headers });
    }
  } finally {
    await rampart.stop();
  }
  return results;
}
