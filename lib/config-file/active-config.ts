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
  /** Settings the file in force changed since startup that apply only at the next start (not in force yet). */
  readonly restartNeeded: readonly string[];
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

export function activeConfigView(
  config: RateLimitConfig,
  source: ConfigSource | undefined,
  version: number,
  loadedAt: number,
  restartNeeded: readonly string[] = [],
): ActiveConfigView {
  const loaded = source?.loaded;
  return {
    version,
    hash: loaded?.hash ?? null,
    source: loaded?.path ?? null,
    loadedAt: new Date(loadedAt).toISOString(),
    reloadable: RELOADABLE_KEYS,
    restartNeeded,
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

const SECRET_KEY = /(secret|password|passwd|token|apikey|api_key|api-key|auth|authorization|credential|cookie|key)$/i;
/** The user and password of a connection string (`scheme://user:password@host`), also where `URL` cannot read it (several hosts). */
const USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^@/]*@/;

/**
 * A copy of `value` with every secret-named key, every header value, the credentials of every
 * connection string and the path of every alert webhook URL (Slack's carry their token) masked.
 */
function masked(value: unknown, key = '', inAlerts = false, inHeaders = false): unknown {
  if (Array.isArray(value)) return value.map((item) => masked(item, '', inAlerts, inHeaders));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k, inAlerts || k === 'alerts', inHeaders || k === 'headers')]));
  if (typeof value !== 'string') return value;
  if (inHeaders || SECRET_KEY.test(key)) return '***';
  if (inAlerts && key === 'url') {
    try {
      return `${new URL(value).origin}/***`;
    } catch {
      return '***';
    }
  }
  return value.replace(USERINFO, '$1***@');
}

/** The settings that differ between two loads of a file (startup's, the latest) and that a reload does not apply. */
export function changedAtRestart(before: LoadedConfigFile | undefined, after: LoadedConfigFile): string[] {
  const old = (before?.data ?? {}) as Record<string, unknown>;
  const next = after.data as Record<string, unknown>;
  const changed: string[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  for (const key of ['storage', 'websockets', 'ddos']) if (differs(old[key], next[key])) changed.push(key);
  const oldGlobal = isObject(old.global) ? old.global : {};
  const nextGlobal = isObject(next.global) ? next.global : {};
  for (const key of new Set([...Object.keys(oldGlobal), ...Object.keys(nextGlobal)])) {
    if (!(RELOADABLE_KEYS as readonly string[]).includes(`global.${key}`) && differs(oldGlobal[key], nextGlobal[key])) changed.push(`global.${key}`);
  }
  return changed;
}
