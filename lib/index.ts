export { RateLimitModule } from './rate-limit.module.js';
export { RATE_LIMIT_OPTIONS } from './rate-limit.module-definition.js';
export { RATE_LIMIT_STORE, RATE_LIMIT_STORAGE } from './rate-limit.constants.js';
export { RateLimitGuard } from './rate-limit.guard.js';
export { Throttle } from './decorators/throttle.decorator.js';
export { SkipThrottle } from './decorators/skip-throttle.decorator.js';
export { ConcurrencyLimit } from './decorators/concurrency-limit.decorator.js';
export { loginProtection, type LoginProtectionOptions } from './outcome/login-protection.js';
export type { CountIf, RequestOutcome } from './outcome/request-outcome.js';
export type { ConcurrencyLimitOptions } from './engine/concurrency-pool.js';
export { RateLimitExceededException, type RateLimitProblem } from './rate-limit.exception.js';
export { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
export { ClientBannedException, type ClientBannedProblem, type ClientBanReason } from './errors/client-banned.exception.js';
export { ClientBlockedException, type ClientBlockedProblem, type ClientBlock } from './errors/client-blocked.exception.js';
export { StoreUnavailableException, type StoreUnavailableProblem } from './errors/store-unavailable.exception.js';
export { ConcurrencyLimitExceededException, type ConcurrencyLimitProblem } from './errors/concurrency-limit.exception.js';
export { ClientUnidentifiedException, type ClientUnidentifiedProblem } from './errors/client-unidentified.exception.js';
export { IdentityError, type IdentityErrorOptions } from './errors/identity.error.js';
export { ipIdentity, type IpIdentityOptions } from './identity/ip-identity.js';
export { sessionIdentity, type SessionIdentityOptions } from './identity/session-identity.js';
export type { IdentityResolvers } from './identity/identity-request.js';
export type { CustomResponse, Denial, DenialReason, DenialResponse, IdentityErrorResponse } from './responses/custom-response.interface.js';
export type { WsRateLimitError, WsRateLimitCode } from './ws/ws-rate-limit-error.js';
export { GRPC_REFUSAL_TRAILERS, type RpcRateLimitError, type RpcRateLimitCode } from './rpc/rpc-rate-limit-error.js';
export { RateLimitService, type ClientStatus, type ClientCounter } from './protection/rate-limit.service.js';
export type { ProtectionVerdict } from './protection/protection-verdict.js';
export { Rampart, createRampart } from './engine/rampart.js';
export type { RampartEngine } from './engine/rampart-engine.js';
export type { RampartOptions } from './engine/rampart-options.interface.js';
export type { RampartRequest, StoreKeyHook } from './engine/rampart-request.js';
export type { TargetRule, TargetRules } from './engine/target-rules.js';
export { RateLimitHeaders, type HeaderSetter, type RateLimitHeaderOptions } from './engine/rate-limit-headers.js';
export { retryAfterSeconds } from './engine/verdict.js';
export type { Verdict, AdmittedVerdict, LimitedVerdict, BlockedVerdict, BannedVerdict, UnavailableVerdict, RuleResult } from './engine/verdict.js';
export type { RampartLogger, LogFields } from './core/logger.js';
export type { LoggingOptions, RampartLogLevel } from './observability/logging-config.js';
export { DEFAULT_ESCALATION_POLICY, decideEscalation, type EscalationPolicy, type EscalationDecision, type EscalationInput } from './core/escalation.js';
export {
  RAMPART_EVENTS,
  type RampartEventName,
  type RampartEventMap,
  type RateLimitEventHandlers,
  type ViolationEvent,
  type BlockEvent,
  type BanEvent,
  type UnbanEvent,
  type StoreDownEvent,
  type StoreUpEvent,
  type AlertEvent,
  type AlertStats,
  type AlertMetric,
  type AlertLevel,
} from './events/rate-limit-events.js';
export type { DdosAttackEvent, DdosSuspectEvent, EndpointTraffic } from './ddos/ddos-events.js';
export type { DdosOptions, DdosWeights } from './ddos/ddos-options.js';
export type { DdosDetector, DdosSnapshot } from './ddos/ddos-detector.js';
export type { AlertOptions, AlertThresholds, AlertLevels, AlertWebhook, AlertRetryOptions } from './alerts/alert-options.interface.js';
export { verifyAlertSignature, SIGNATURE_HEADER } from './alerts/alert-signature.js';
export type { RateLimitModuleOptions, RateLimitModuleExtras, RateLimitViolation } from './rate-limit-options.interface.js';
export type { RateLimitAdminOptions } from './admin/admin-options.interface.js';
export type { RateLimitRule, ThrottleRule, ClientKeyResolver, StoreErrorPolicy, RequestLimits, RequestLimitsCache } from './rate-limit-rule.interface.js';
export { DEFAULT_GROUP, type GroupResolver, type GroupOptions } from './engine/groups.js';
export type { RateLimitStore } from './storage/rate-limit-store.interface.js';
export type { RampartStorage } from './storage/rampart-storage.interface.js';
export { splitStorage, type SplitStorageOptions } from './storage/split-storage.js';
export { StorageSetupError } from './storage/storage-setup.error.js';
export { memoryStorage, type MemoryStorage, type MemoryStorageOptions } from './storage/memory-storage.js';
export type { Ban, BanKind, BanSource, BanTarget } from './storage/ban-store.interface.js';
export type { AccessListEntry, AccessListKind } from './storage/access-list-store.interface.js';
export type { Violation } from './storage/violation-store.interface.js';
export type { Lease, LeaseAcquisition, LeaseStore } from './storage/lease-store.interface.js';
export { MemoryLeaseStore } from './storage/memory-lease.store.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './storage/memory-rate-limit.store.js';
export type { StatsStore } from './storage/stats-store.interface.js';
export type { InstanceStatsSummary, StatsBucketSummary } from './observability/stats-summary.js';
export { MemoryStatsStore } from './storage/memory-stats.store.js';
export type { AdaptiveStore } from './storage/adaptive-store.interface.js';
export { MemoryAdaptiveStore, type MemoryAdaptiveStoreOptions } from './storage/memory-adaptive.store.js';
export type { AdaptiveLimitOptions } from './adaptive/adaptive-options.js';
export type { AdaptiveState } from './adaptive/adaptive-math.js';
export type { StoreRule, ConsumeResult } from './core/rule-decision.js';
export type { AlgorithmName, AlgorithmRule, Decision } from './core/algorithms/algorithm.interface.js';
export type { Clock } from './core/clock.js';
export { systemClock } from './core/clock.js';
export type { TrustProxyOptions } from './core/ip/trust-proxy.js';
export { seconds, minutes, hours, days, weeks } from './core/duration.js';
export { loadConfigFile, DEFAULT_EXCLUDED_PATHS, ENV_OVERRIDES, type LoadedConfigFile, type ConfigFileOptions } from './config-file/index.js';
export type { RateLimitRoute, RouteRule } from './routes/route-options.js';
