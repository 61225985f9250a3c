/**
 * `nest-rampart/engine`: Rampart without Nest. Nothing here loads Nest, Express or Fastify.
 */
export { Rampart, createRampart } from './rampart.js';
export type { RampartEngine } from './rampart-engine.js';
export type { RampartOptions, RateLimitViolation } from './rampart-options.interface.js';
export type { RampartRequest, StoreKeyHook } from './rampart-request.js';
export type { RateLimitRule, ThrottleRule, ClientKeyResolver, StoreErrorPolicy, RequestLimits, RequestLimitsCache } from './rule.interface.js';
export type { TargetRule, TargetRules } from './target-rules.js';
export { DEFAULT_GROUP, type GroupResolver, type GroupOptions } from './groups.js';
export { RateLimitHeaders, type HeaderSetter, type RateLimitHeaderOptions } from './rate-limit-headers.js';
export { retryAfterSeconds } from './verdict.js';
export type { Verdict, AdmittedVerdict, LimitedVerdict, BlockedVerdict, BannedVerdict, UnavailableVerdict, RuleResult } from './verdict.js';
export type { RateLimitService, ClientStatus, ClientCounter } from '../protection/rate-limit.service.js';
export type { ProtectionVerdict } from '../protection/protection-verdict.js';
export { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
export { IdentityError, type IdentityErrorOptions } from '../errors/identity.error.js';
export { StorageSetupError } from '../storage/storage-setup.error.js';
export { DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from '../core/escalation.js';
export { RAMPART_EVENTS, type RampartEventMap, type RateLimitEventHandlers } from '../events/rate-limit-events.js';
export type { RampartLogger, LogFields } from '../core/logger.js';
export type { LoggingOptions, RampartLogLevel } from '../observability/logging-config.js';
export type { Clock } from '../core/clock.js';
export type { TrustProxyOptions } from '../core/ip/trust-proxy.js';
export { seconds, minutes, hours, days, weeks } from '../core/duration.js';
export { memoryStorage, type MemoryStorage, type MemoryStorageOptions } from '../storage/memory-storage.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from '../storage/memory-rate-limit.store.js';
export type { RampartStorage } from '../storage/rampart-storage.interface.js';
export { splitStorage, type SplitStorageOptions } from '../storage/split-storage.js';
export type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
export type { StoreRule, ConsumeResult } from '../core/rule-decision.js';
export type { Ban, BanKind, BanSource, BanTarget } from '../storage/ban-store.interface.js';
export type { AccessListEntry, AccessListKind } from '../storage/access-list-store.interface.js';
export type { Violation } from '../storage/violation-store.interface.js';
export type { AlertEvent, AlertStats, AlertMetric, AlertLevel } from '../events/rate-limit-events.js';
export type { AlertOptions, AlertThresholds, AlertLevels, AlertWebhook, AlertRetryOptions } from '../alerts/alert-options.interface.js';
export { verifyAlertSignature, SIGNATURE_HEADER } from '../alerts/alert-signature.js';
