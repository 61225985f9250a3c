import type { Algorithm, AlgorithmName } from './algorithm.interface.js';
import { fixedWindow } from './fixed-window.algorithm.js';
import { gcra } from './gcra.algorithm.js';
import { slidingLog } from './sliding-log.algorithm.js';
import { slidingWindowCounter } from './sliding-window-counter.algorithm.js';
import { tokenBucket } from './token-bucket.algorithm.js';

export type { Algorithm, AlgorithmName, AlgorithmRule, Decision, Outcome } from './algorithm.interface.js';
export { fixedWindow, type FixedWindowState } from './fixed-window.algorithm.js';
export { gcra, type GcraState } from './gcra.algorithm.js';
export { slidingLog, type SlidingLogState } from './sliding-log.algorithm.js';
export { slidingWindowCounter, type SlidingWindowCounterState } from './sliding-window-counter.algorithm.js';
export { tokenBucket, type TokenBucketState } from './token-bucket.algorithm.js';

const ALGORITHMS: { readonly [N in AlgorithmName]: Algorithm } = {
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindowCounter,
  'sliding-log': slidingLog,
  'token-bucket': tokenBucket,
  gcra,
};

/** Every algorithm name, the default (`sliding-window`) first. */
export const ALGORITHM_NAMES: readonly AlgorithmName[] = Object.freeze(['sliding-window', 'fixed-window', 'sliding-log', 'token-bucket', 'gcra']);

/** The algorithm registered under `name`; throws for a name that is not one (e.g. from plain JS). */
export function getAlgorithm(name: AlgorithmName): Algorithm {
  if (!Object.hasOwn(ALGORITHMS, name)) {
    throw new Error(`Unknown rate-limit algorithm "${String(name)}"; expected one of: ${ALGORITHM_NAMES.join(', ')}`);
  }
  return ALGORITHMS[name];
}
