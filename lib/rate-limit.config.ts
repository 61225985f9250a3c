import type { ExecutionContext } from '@nestjs/common';
import { checkAdminApiKeys } from './admin/admin-settings.js';
import { checkRampartOptions, type RampartConfig } from './engine/rampart-config.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import * as messages from './errors/messages.js';
import type { RateLimitModuleOptions } from './rate-limit-options.interface.js';
import { checkCustomResponses, type CustomResponsesConfig } from './responses/refusal-responses.js';
import { checkWsConnectionLimits, type WsConnectionConfig } from './ws/ws-connection-options.js';

export { ruleEscalation } from './engine/rule-resolution.js';

/** The engine's configuration in a Nest app, with the admin API's key digests. */
export interface RateLimitConfig extends RampartConfig<ExecutionContext>, CustomResponsesConfig {
  /** SHA-256 digests of the `adminApiKey` keys; absent when none is set. */
  readonly adminApiKeyDigests?: readonly Buffer[];
  /** Limits on each client's WebSocket connections. */
  readonly websockets: WsConnectionConfig;
}

/** Validates the module options once, at startup, into one error that lists every problem. */
export function resolveRateLimitConfig(options: RateLimitModuleOptions = {}): RateLimitConfig {
  const problems: string[] = [];
  const config = checkRampartOptions(options, problems);
  const adminApiKeyDigests = checkAdminApiKeys(options.adminApiKey, problems);
  const websockets = checkWsConnectionLimits(options.websockets, problems);
  const responses = checkCustomResponses(options, problems);
  if (websockets.maxConnections !== undefined && config.storage?.leases === undefined) problems.push(messages.leasesNeededForConnections());
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return Object.freeze({
    ...config,
    websockets,
    ...responses,
    ...(adminApiKeyDigests.length > 0 ? { adminApiKeyDigests: Object.freeze(adminApiKeyDigests) } : {}),
  });
}
