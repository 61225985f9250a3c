import { checkRefunds } from './outcome/request-outcome.js';
import type { ExecutionContext } from '@nestjs/common';
import { checkAdminApiKeys } from './admin/admin-settings.js';
import { checkConfigFileOption } from './config-file/config-file-check.js';
import type { ConfigFileSettings } from './config-file/config-file-options.js';
import { checkRampartOptions, type RampartConfig } from './engine/rampart-config.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import * as messages from './errors/messages.js';
import type { RateLimitModuleOptions } from './rate-limit-options.interface.js';
import { RouteTable } from './routes/route-table.js';
import { nestHttpResponse } from './ddos/response-status.js';
import { checkCustomResponses, type CustomResponsesConfig } from './responses/refusal-responses.js';
import { checkWsConnectionLimits, type WsConnectionConfig } from './ws/ws-connection-options.js';

export { ruleEscalation } from './engine/rule-resolution.js';

/** The engine's configuration in a Nest app, with the admin API's key digests. */
export interface RateLimitConfig extends RampartConfig<ExecutionContext>, CustomResponsesConfig {
  /** SHA-256 digests of the `adminApiKey` keys; absent when none is set. */
  readonly adminApiKeyDigests?: readonly Buffer[];
  /** Limits on each client's WebSocket connections. */
  readonly websockets: WsConnectionConfig;
  /** The `routes` and `excludePaths` of HTTP requests. */
  readonly routes: RouteTable<ExecutionContext>;
  /** False: nothing is counted or refused. */
  readonly enabled: boolean;
  /** The configuration file, when there is one. */
  readonly configFile?: ConfigFileSettings;
}

/**
 * Validates the module options (with a configuration file's sections and the environment's
 * overrides already applied); problems are appended, and the configuration is only meaningful
 * without them.
 */
export function checkRateLimitOptions(options: RateLimitModuleOptions, problems: string[]): RateLimitConfig {
  const config = checkRampartOptions(options, problems);
  const adminApiKeyDigests = checkAdminApiKeys(options.adminApiKey, problems);
  const websockets = checkWsConnectionLimits(options.websockets, problems);
  const responses = checkCustomResponses(options, problems);
  if (websockets.maxConnections !== undefined && config.storage?.leases === undefined) problems.push(messages.leasesNeededForConnections());
  const routes = RouteTable.compile<ExecutionContext>(options.routes, options.excludePaths, config.rules, problems);
  checkRefunds(config.store, [...config.rules, ...routes.targetRules().map((target) => target.rule)], problems);
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') problems.push(messages.badBoolean('enabled', options.enabled));
  const configFile = checkConfigFileOption(options.configFile, options.env, problems);
  return Object.freeze({
    ...config,
    websockets,
    ...responses,
    routes,
    enabled: options.enabled ?? true,
    ...(config.ddos ? { responseOf: nestHttpResponse } : {}),
    ...(configFile ? { configFile } : {}),
    ...(adminApiKeyDigests.length > 0 ? { adminApiKeyDigests: Object.freeze(adminApiKeyDigests) } : {}),
  });
}

/** Validates the module options once, at startup, into one error that lists every problem. */
export function resolveRateLimitConfig(options: RateLimitModuleOptions = {}): RateLimitConfig {
  const problems: string[] = [];
  const config = checkRateLimitOptions(options, problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return config;
}
