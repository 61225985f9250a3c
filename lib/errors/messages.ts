/** Every error text Rampart produces, in one place. Each says how to fix the problem. */

export const RULE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const configurationHeader = (count: number) =>
  `RateLimitModule is misconfigured (${count} problem${count === 1 ? '' : 's'}):`;

export const notPositiveInteger = (path: string, value: unknown) =>
  `${path} must be a positive integer, got ${describe(value)}.`;

export const notNonNegativeInteger = (path: string, value: unknown) =>
  `${path} must be an integer of 0 or more (milliseconds), got ${describe(value)}.`;

export const unknownAlgorithm = (path: string, value: unknown, names: readonly string[]) =>
  `${path} must be one of ${names.map((n) => `'${n}'`).join(', ')}, got ${describe(value)}.`;

export const badRuleName = (path: string, value: unknown) =>
  `${path} must be 1-64 letters, digits, '_', '-' or '.', got ${describe(value)}.`;

export const duplicateRuleName = (path: string, name: string) =>
  `${path}: two rules are named '${name}'. Give each rule its own name.`;

export const notAFunction = (path: string, value: unknown) => `${path} must be a function, got ${describe(value)}.`;

export const costAboveCapacity = (path: string, cost: number, capacity: number) =>
  `${path} is ${cost}, more than the rule's capacity ${capacity}: such a request could never pass. Lower the cost or raise the limit (or burst).`;

export const burstBelowOne = (path: string, value: unknown) => `${path} must be a positive integer, got ${describe(value)}.`;

export const badStore = (value: unknown) =>
  `store must implement consume(key, rule, nowMs, cost), get(key, rule, nowMs) and reset(key); got ${describe(value)}.`;

export const badBoolean = (path: string, value: unknown) => `${path} must be true or false, got ${describe(value)}.`;

export const badClock = (value: unknown) => `clock must be an object with a now() method returning epoch ms, got ${describe(value)}.`;

export const incompleteRouteRule = (where: string, name: string) =>
  `${where}: @Throttle rule '${name}' names no module rule, so it needs its own limit and windowMs. Add them, or name one of the module's rules.`;

export const badScope = (path: string, value: unknown) => `${path} must be a non-empty string of at most 128 characters, got ${describe(value)}.`;

export const badErrorMessage = (value: unknown) => `errorMessage must be a string or a function, got ${describe(value)}.`;

export const defaultViolationDetail = (rule: string, limit: number, windowMs: number, retryAfterSeconds: number) =>
  `Rate limit '${rule}' exceeded: at most ${limit} request${limit === 1 ? '' : 's'} per ${formatWindow(windowMs)}. Retry in ${retryAfterSeconds} s.`;

function formatWindow(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
