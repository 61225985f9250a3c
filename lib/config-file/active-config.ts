import { isObject } from '../core/option-objects.js';
import type { EscalationPolicy } from '../core/escalation.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RELOADABLE_KEYS } from './file-format.js';
import type { LoadedConfigFile } from './load-config-file.js';
import type { ConfigSource } from './module-config.js';

/** The configuration in force, as the admin API shows it. */
export interface ActiveConfigView {
  /** 1 at startup, one more at each reload that changed something. */
  readonly version: number;
  /** SHA-256 of the configuration file in force (the same on every instance that loaded the same file); null without one. */
  readonly hash: string | null;
  /** The configuration file's path; null without one. */
  readonly source: string | null;
  readonly loadedAt: string;
  /** What a reload applies (the rest at the next start). */
  readonly reloadable: readonly string[];
  /** The file's content, connection-string passwords and alert secrets masked; null without one. */
  readonly file: Record<string, unknown> | null;
  /** What the module enforces now: code options, the file and the environment together. */
  readonly effective: {
    readonly enabled: boolean;
    readonly rules: readonly Record<string, unknown>[];
    readonly routes: readonly Record<string, unknown>[];
    readonly excludePaths: readonly string[];
    readonly unlimitedGroups: readonly string[];
    readonly escalation: EscalationPolicy | null;
  };
}

export function activeConfigView(config: RateLimitConfig, source: ConfigSource | undefined, version: number, loadedAt: number): ActiveConfigView {
  const loaded = source?.loaded;
  return {
    version,
    hash: loaded?.hash ?? null,
    source: loaded?.path ?? null,
    loadedAt: new Date(loadedAt).toISOString(),
    reloadable: RELOADABLE_KEYS,
    file: loaded ? (masked(loaded.data) as Record<string, unknown>) : null,
    effective: {
      enabled: config.enabled,
      rules: config.rules.map((rule) => ({
        name: rule.name,
        limit: rule.limit,
        windowMs: rule.windowMs,
        algorithm: rule.algorithm,
        ...(rule.burst !== undefined ? { burst: rule.burst } : {}),
        blockDurationMs: rule.blockDurationMs,
        ...(rule.scope !== undefined ? { scope: rule.scope } : {}),
        ...(rule.groups ? { groups: rule.groups } : {}),
        ...(rule.shadow ? { shadow: true } : {}),
      })),
      routes: config.routes.describe(),
      excludePaths: config.routes.excludePaths,
      unlimitedGroups: [...config.unlimitedGroups],
      escalation: config.escalation || null,
    },
  };
}

const SECRET_KEY = /(secret|password|token|apikey|api_key)$/i;

/** A copy of `value` with the password of every URL and the value of every secret-named key masked; webhook URLs keep their origin only. */
function masked(value: unknown, key = '', inAlerts = false): unknown {
  if (Array.isArray(value)) return value.map((item) => masked(item, '', inAlerts));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k, inAlerts || k === 'alerts')]));
  if (typeof value !== 'string') return value;
  if (SECRET_KEY.test(key)) return '***';
  try {
    const url = new URL(value);
    if (inAlerts && key === 'url') return `${url.origin}/***`;
    if (url.password) url.password = '***';
    return url.password ? url.toString() : value;
  } catch {
    return value;
  }
}

/** The settings that differ between two loads of a file and that a reload does not apply. */
export function changedAtRestart(before: LoadedConfigFile | undefined, after: LoadedConfigFile): string[] {
  const old = (before?.data ?? {}) as Record<string, unknown>;
  const next = after.data as Record<string, unknown>;
  const changed: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  for (const key of ['storage', 'websockets']) if (differs(old[key], next[key])) changed.push(key);
  const oldGlobal = isObject(old.global) ? old.global : {};
  const nextGlobal = isObject(next.global) ? next.global : {};
  for (const key of new Set([...Object.keys(oldGlobal), ...Object.keys(nextGlobal)])) {
    if (!(RELOADABLE_KEYS as readonly string[]).includes(`global.${key}`) && differs(oldGlobal[key], nextGlobal[key])) changed.push(`global.${key}`);
  }
  return changed;
}
