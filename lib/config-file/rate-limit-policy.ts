import { Inject, Injectable, type ExecutionContext, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Rampart } from '../engine/rampart.js';
import * as configMessages from '../errors/config-file-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { checkRateLimitOptions, type RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from '../rate-limit.constants.js';
import { OutcomePlacement } from '../outcome/outcome-placement.js';
import { RouteRulesResolver } from '../route-rules.resolver.js';
import { activeConfigView, changedAtRestart, type ActiveConfigView } from './active-config.js';
import { ENV_OVERRIDES } from './env-overrides.js';
import { loadConfigFile, type LoadedConfigFile } from './load-config-file.js';
import { keyedRules, mergedOptions, type ConfigSource } from './module-config.js';

/** Changes to the file's directory closer together than this are one reload. */
const WATCH_DEBOUNCE_MS = 100;

/** What a reload did. */
export type ReloadResult =
  | { readonly status: 'reloaded'; readonly version: number; readonly hash: string; readonly restartNeeded: readonly string[] }
  | { readonly status: 'unchanged'; readonly version: number; readonly hash: string }
  | { readonly status: 'invalid'; readonly version: number; readonly problems: readonly string[] }
  | { readonly status: 'no-file' };

/**
 * The configuration in force and its reloads: a configuration file is reloaded when it changes
 * (its directory is watched), on `SIGHUP`, and through the admin API. A valid file is applied at
 * once (rules, routes, groups, excluded paths, escalation, `enabled`); counters keep their state
 * where a rule keeps its name and algorithm. An invalid one changes nothing: every problem is
 * logged, and the configuration in force stays. So does one that brings rules counting outcomes
 * (`countIf`) to an app that started without any (see `OutcomePlacement.reloadProblems`). Reloads
 * run one at a time.
 */
@Injectable()
export class RateLimitPolicy implements OnApplicationBootstrap, OnModuleDestroy {
  private version = 1;
  private loadedAt: number;
  private source: ConfigSource | undefined;
  /** The file as loaded at startup: what the settings a reload does not apply still come from. */
  private readonly startup: LoadedConfigFile | undefined;
  /** The settings of the file in force that differ from startup's and wait for a restart. */
  private restartNeeded: readonly string[] = [];
  /** What the environment's overrides read at the last load. */
  private overrides: string;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly onSignal = () => void this.reload('signal');
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(RATE_LIMIT_CONFIG) config: RateLimitConfig & { readonly source?: ConfigSource },
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly routeRules: RouteRulesResolver,
    private readonly outcomes: OutcomePlacement,
  ) {
    this.source = config.source;
    this.startup = config.source?.loaded;
    this.loadedAt = config.clock.now();
    this.overrides = this.readOverrides();
  }

  /** Starts watching the file and listening to the reload signal. */
  onApplicationBootstrap(): void {
    const file = this.source?.file;
    if (!file) return;
    if (file.reloadSignal) {
      // Nest's enableShutdownHooks() with no list stops the app on SIGHUP too: say so, once.
      if (process.listenerCount(file.reloadSignal) > 0) this.rampart.config.logger.warn(configMessages.signalShared(file.reloadSignal));
      process.on(file.reloadSignal, this.onSignal);
    }
    if (file.watch) {
      try {
        const name = basename(file.path);
        this.watcher = watch(dirname(file.path), { persistent: false }, (_event, changed) => {
          // Kubernetes swaps a ConfigMap's files through a `..data` link: any change in the directory is checked.
          if (changed !== null && changed !== name && !String(changed).startsWith('..')) return;
          clearTimeout(this.debounce);
          this.debounce = setTimeout(() => void this.reload('file'), WATCH_DEBOUNCE_MS);
          this.debounce.unref();
        });
        this.watcher.on('error', (error) => this.rampart.config.logger.error(configMessages.watchFailed(file.path, error)));
      } catch (error) {
        this.rampart.config.logger.error(configMessages.watchFailed(file.path, error));
      }
    }
  }

  onModuleDestroy(): void {
    const file = this.source?.file;
    if (file?.reloadSignal) process.off(file.reloadSignal, this.onSignal);
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The configuration in force, for the admin API (secrets in connection strings and webhooks masked). */
  describe(): ActiveConfigView {
    return activeConfigView(this.rampart.config as RateLimitConfig, this.source, this.version, this.loadedAt, this.restartNeeded);
  }

  /** Reads the configuration file again and applies it when it is valid (see the class). */
  reload(trigger: 'file' | 'signal' | 'admin'): Promise<ReloadResult> {
    const next = this.queue.then(() => this.reloadNow(trigger));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(trigger: string): Promise<ReloadResult> {
    const source = this.source;
    const { logger } = this.rampart.config;
    if (!source?.file) return { status: 'no-file' };
    const problems: string[] = [];
    let loaded: LoadedConfigFile | undefined;
    try {
      loaded = await loadConfigFile(source.file.path, { env: source.env });
    } catch (error) {
      problems.push(...(error instanceof RateLimitConfigurationError ? error.problems : [String(error)]));
    }
    const running = this.rampart.config as RateLimitConfig;
    let next: RateLimitConfig | undefined;
    if (loaded) {
      const options = mergedOptions(source.code, loaded, source.env, problems);
      const storage = { storage: running.storage, store: running.store, configFile: undefined, env: false as const };
      next = checkRateLimitOptions({ ...options, ...storage, logger }, problems);
      if (problems.length === 0) problems.push(...this.routeRules.problemsWith(next.rules), ...this.outcomes.reloadProblems(next));
    }
    if (!loaded || !next || problems.length > 0) {
      logger.error(configMessages.reloadRefused(source.file.path, trigger, this.version, problems));
      return { status: 'invalid', version: this.version, problems };
    }
    const overrides = this.readOverrides();
    if (loaded.hash === source.loaded?.hash && overrides === this.overrides) return { status: 'unchanged', version: this.version, hash: loaded.hash };
    const restartNeeded = changedAtRestart(this.startup, loaded);
    const { rules, escalation, unlimitedGroups, routes, enabled } = next;
    this.rampart.reconfigure({ rules: keyedRules(rules), escalation, unlimitedGroups, routes, enabled } as Partial<RateLimitConfig>);
    this.routeRules.reset();
    this.source = { ...source, loaded };
    this.overrides = overrides;
    this.restartNeeded = restartNeeded;
    this.version++;
    this.loadedAt = this.rampart.config.clock.now();
    logger.log(configMessages.reloaded(source.file.path, trigger, this.version, loaded.hash));
    if (restartNeeded.length > 0) logger.warn(configMessages.restartNeeded(source.file.path, restartNeeded));
    return { status: 'reloaded', version: this.version, hash: loaded.hash, restartNeeded };
  }

  private readOverrides(): string {
    const env = this.source?.env ?? {};
    return JSON.stringify(Object.values(ENV_OVERRIDES).flatMap((names) => names.map((name) => env[name] ?? null)));
  }
}
