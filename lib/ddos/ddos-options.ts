import { checkPositiveIntegers, filled, isObject, optionsObject } from '../core/option-objects.js';
import * as messages from '../errors/ddos-messages.js';
import { badBoolean } from '../errors/messages.js';

/**
 * How much each signal weighs in a client's suspicion score (see `DdosOptions.weights`). With the
 * defaults, rate + burst + spread weigh 0.6, under the default `scoreThreshold` of 0.65: a client
 * without errors is never a suspect, however heavy, bursty and spread its traffic.
 */
export interface DdosWeights {
  /** Requests in the window over `clientThreshold`. @default 0.4 */
  readonly rate: number;
  /** Peak-to-mean of the client's requests over the window's slots. @default 0.15 */
  readonly burst: number;
  /** Distinct endpoints the client reached. @default 0.05 */
  readonly spread: number;
  /** Share of the client's requests refused or answered with a status of 400 or more. @default 0.4 */
  readonly errors: number;
}

/**
 * DDoS detection (see the README's "DDoS detection"): each instance counts the requests it decides,
 * per client address, per endpoint and in all. When the requests of the last `windowMs` reach
 * `threshold`, an attack is under way: clients whose suspicion score reaches `scoreThreshold` are
 * announced, and blocked for `blockDurationMs` (with `autoBlock`) through the ban store, so that
 * every instance enforces the block.
 *
 * @example ddos: { threshold: 20_000, windowMs: 60_000, clientThreshold: 600, blockDurationMs: 3_600_000 }
 */
export interface DdosOptions {
  /** `false` leaves the detection off (as if the option were not given). @default true */
  enabled?: boolean;
  /** The window of every count, in milliseconds (cut into 10 slots). @default 60_000 */
  windowMs?: number;
  /**
   * Requests within `windowMs`, from every client together, that mean an attack: counted by each
   * instance on its own (set it for one instance's share of the traffic).
   * @default 10_000
   */
  threshold?: number;
  /** Requests within `windowMs` from one client address at which its rate signal is full. @default 300 */
  clientThreshold?: number;
  /**
   * Suspicion score (0 to 1) at which a client is suspect during an attack. Keep it above the
   * weights of rate, burst and spread together (0.6 with the defaults), or a heavy client whose
   * requests all succeed can be blocked.
   * @default 0.65
   */
  scoreThreshold?: number;
  /** Block suspects (otherwise they are only announced and logged). @default true */
  autoBlock?: boolean;
  /** How long a suspect is blocked, in milliseconds. @default 3_600_000 (an hour) */
  blockDurationMs?: number;
  /** Weights of the score's signals (scaled to sum to 1). @default { rate: 0.4, burst: 0.15, spread: 0.05, errors: 0.4 } */
  weights?: Partial<DdosWeights>;
  /** Client addresses followed at once per instance; the least recently seen goes first. @default 10_000 */
  maxClients?: number;
  /** Endpoints counted apart per instance; the others are counted together as `(other)`. @default 1_000 */
  maxEndpoints?: number;
}

/** The validated `ddos` option. */
export interface DdosConfig {
  readonly windowMs: number;
  readonly threshold: number;
  readonly clientThreshold: number;
  readonly scoreThreshold: number;
  readonly autoBlock: boolean;
  readonly blockDurationMs: number;
  /** Scaled to sum to 1. */
  readonly weights: DdosWeights;
  readonly maxClients: number;
  readonly maxEndpoints: number;
}

/** Slots a window is cut into: the burst signal's resolution and the window's step. */
export const DDOS_SLOTS = 10;

export const DEFAULT_DDOS_WEIGHTS: DdosWeights = Object.freeze({ rate: 0.4, burst: 0.15, spread: 0.05, errors: 0.4 });

export const DEFAULT_DDOS: DdosConfig = Object.freeze({
  windowMs: 60_000,
  threshold: 10_000,
  clientThreshold: 300,
  scoreThreshold: 0.65,
  autoBlock: true,
  blockDurationMs: 3_600_000,
  weights: DEFAULT_DDOS_WEIGHTS,
  maxClients: 10_000,
  maxEndpoints: 1_000,
});

const FIELDS = ['enabled', ...Object.keys(DEFAULT_DDOS)];

/** The `ddos` option with its defaults filled in; false when left out or off. Problems are appended. */
export function checkDdos(given: unknown, problems: string[]): DdosConfig | false {
  if (given === undefined || given === false) return false;
  const options = given === true ? {} : optionsObject(given, 'ddos', FIELDS, messages.badDdos, problems);
  if (options === undefined) return false;
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') problems.push(badBoolean('ddos.enabled', options.enabled));
  if (options.enabled === false) return false;
  const config = filled(DEFAULT_DDOS, options) as { -readonly [K in keyof DdosConfig]: DdosConfig[K] };
  checkPositiveIntegers(config, 'ddos', ['windowMs', 'threshold', 'clientThreshold', 'blockDurationMs', 'maxClients', 'maxEndpoints'], problems);
  if (Number.isInteger(config.windowMs) && config.windowMs > 0 && config.windowMs < DDOS_SLOTS)
    problems.push(messages.ddosWindowTooShort(config.windowMs, DDOS_SLOTS));
  const { scoreThreshold } = config;
  if (typeof scoreThreshold !== 'number' || !(scoreThreshold > 0 && scoreThreshold <= 1)) problems.push(messages.badDdosScoreThreshold(scoreThreshold));
  if (typeof config.autoBlock !== 'boolean') problems.push(badBoolean('ddos.autoBlock', config.autoBlock));
  config.weights = checkWeights(options.weights, problems);
  return Object.freeze(config);
}

/** The weights with their defaults, scaled to sum to 1. */
function checkWeights(given: unknown, problems: string[]): DdosWeights {
  if (given === undefined) return DEFAULT_DDOS_WEIGHTS;
  const fields = Object.keys(DEFAULT_DDOS_WEIGHTS);
  const options = optionsObject(given, 'ddos.weights', fields, messages.badDdosWeights, problems);
  if (options === undefined) return DEFAULT_DDOS_WEIGHTS;
  const weights = filled(DEFAULT_DDOS_WEIGHTS, options);
  const values = Object.values(weights) as unknown[];
  const sum = values.reduce<number>((total, w) => total + (typeof w === 'number' ? w : NaN), 0);
  if (!values.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0) || !(sum > 0)) {
    problems.push(messages.badDdosWeights(isObject(given) ? JSON.stringify(given) : given));
    return DEFAULT_DDOS_WEIGHTS;
  }
  return Object.freeze(Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, (w as number) / sum])) as unknown as DdosWeights);
}
