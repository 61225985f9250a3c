import { describe, errorText } from './describe.js';

// The `ddos` option's problems and the DDoS detection's log lines.

export const badDdos = (value: unknown) =>
  `ddos must be an object of DDoS detection options such as { threshold: 10000, windowMs: 60000, autoBlock: true, blockDurationMs: 3600000 }, true (the defaults) or false, got ${describe(value)}.`;

export const badDdosScoreThreshold = (value: unknown) => `ddos.scoreThreshold must be a number above 0 and at most 1, got ${describe(value)}.`;

export const badDdosWeights = (value: unknown) =>
  `ddos.weights must be an object of non-negative numbers { rate, burst, spread, errors } whose sum is above 0, got ${describe(value)}.`;

export const ddosWindowTooShort = (windowMs: number, slots: number) =>
  `ddos.windowMs must be at least ${slots} (the window is cut into ${slots} slots of whole milliseconds), got ${windowMs}.`;

export const ddosAttackStarted = (requests: number, threshold: number, windowMs: number, endpoints: string) =>
  `DDoS attack suspected: ${requests} requests within ${windowMs} ms on this instance reached the threshold of ${threshold}; busiest endpoints: ${endpoints}.`;

export const ddosAttackEnded = (requests: number, threshold: number, durationMs: number, suspects: number) =>
  `DDoS attack over: ${requests} requests in the window, under half the threshold of ${threshold}, after ${durationMs} ms; ${suspects} client(s) found suspicious.`;

export const ddosSuspect = (key: string, score: number, blocked: boolean) =>
  `DDoS suspect ${key}: suspicion score ${score.toFixed(2)}${blocked ? ', blocking it' : ' (autoBlock is off: not blocked)'}.`;

export const badDdosScoreLevel = (path: string, value: unknown) => `${path} must be a suspicion score above 0 and at most 1, got ${describe(value)}.`;

export const ddosBlockFailed = (key: string, error: unknown) => `DDoS block of ${key} could not be written: ${errorText(error)}.`;
