/** Route of the exposition when `path` is not given. */
export const DEFAULT_METRICS_PATH = '/metrics';
/** Injection token of RampartMetricsModule's options. */
export const RAMPART_METRICS_OPTIONS = Symbol('nest-rampart:metrics-options');
