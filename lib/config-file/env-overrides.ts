import * as configMessages from '../errors/config-file-messages.js';
import { DEFAULT_RULE } from '../engine/rule-resolution.js';
import type { RateLimitModuleOptions } from '../rate-limit-options.interface.js';
import type { RateLimitRule } from '../rate-limit-rule.interface.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment variables Rampart reads, each with the seed name it also answers to (the
 * `RAMPART_` name wins when both are set). `RAMPART_SHADOW` (shadow mode) and `RAMPART_CONFIG` (the
 * configuration file) are read too.
 */
export const ENV_OVERRIDES = {
  enabled: ['RAMPART_ENABLED', 'RATE_LIMIT_ENABLED'],
  perMinute: ['RAMPART_LIMIT_PER_MINUTE', 'RATE_LIMIT_PER_MINUTE'],
  burst: ['RAMPART_BURST', 'RATE_LIMIT_BURST'],
  wsConnections: ['RAMPART_WS_MAX_CONNECTIONS', 'WS_MAX_CONNECTIONS_PER_USER'],
  wsMessages: ['RAMPART_WS_MESSAGES_PER_MINUTE', 'WS_MESSAGE_RATE_LIMIT'],
} as const;

const BUCKETS: readonly unknown[] = ['token-bucket', 'gcra'];

/** The variable of `names` that is set (the first), and its value. */
function read(env: Env, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return [name, value.trim()];
  }
  return undefined;
}

function positive(env: Env, names: readonly string[], problems: string[]): number | undefined {
  const found = read(env, names);
  if (!found) return undefined;
  const n = /^\d+$/.test(found[1]) ? Number(found[1]) : NaN;
  if (Number.isSafeInteger(n) && n > 0) return n;
  problems.push(configMessages.badEnvNumber(found[0], found[1]));
  return undefined;
}

/**
 * The options with the environment's overrides applied (problems appended): `enabled`; the limit
 * per minute and the burst of the rule named `default` (a burst turns the built-in default rule
 * into a token bucket, since a window has none); the WebSocket connections per client and messages
 * per minute.
 */
export function withEnvOverrides(options: RateLimitModuleOptions, env: Env, problems: string[]): RateLimitModuleOptions {
  const next: RateLimitModuleOptions = { ...options };
  const enabled = read(env, ENV_OVERRIDES.enabled);
  if (enabled) {
    const flag = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false }[enabled[1].toLowerCase()];
    if (flag === undefined) problems.push(configMessages.badEnvFlag(enabled[0], enabled[1]));
    else next.enabled = flag;
  }
  const perMinute = positive(env, ENV_OVERRIDES.perMinute, problems);
  const burst = positive(env, ENV_OVERRIDES.burst, problems);
  if (perMinute !== undefined || burst !== undefined) {
    const given = options.rules === undefined ? undefined : [options.rules].flat();
    const rules: RateLimitRule[] = given ?? [{ ...DEFAULT_RULE }];
    const index = rules.findIndex((rule) => (rule?.name ?? 'default') === 'default');
    const variable = (perMinute !== undefined ? read(env, ENV_OVERRIDES.perMinute) : read(env, ENV_OVERRIDES.burst))?.[0] as string;
    if (index === -1) problems.push(configMessages.noDefaultRule(variable));
    else {
      const rule = { ...rules[index], ...(perMinute !== undefined ? { limit: perMinute, windowMs: 60_000 } : {}) };
      if (burst !== undefined) {
        if (given === undefined) rule.algorithm = 'token-bucket';
        if (!BUCKETS.includes(rule.algorithm)) problems.push(configMessages.burstWithoutBucket(read(env, ENV_OVERRIDES.burst)?.[0] as string, rule.algorithm));
        rule.burst = burst;
      }
      next.rules = rules.map((r, i) => (i === index ? rule : r));
    }
  }
  const connections = positive(env, ENV_OVERRIDES.wsConnections, problems);
  const messages = positive(env, ENV_OVERRIDES.wsMessages, problems);
  if (connections !== undefined || messages !== undefined) {
    next.websockets = {
      ...options.websockets,
      ...(connections !== undefined ? { maxConnections: connections } : {}),
      ...(messages !== undefined ? { messageRate: { ...options.websockets?.messageRate, limit: messages, windowMs: 60_000 } } : {}),
    };
  }
  return next;
}
