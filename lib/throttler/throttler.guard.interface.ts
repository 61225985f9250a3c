import type { ExecutionContext } from '@nestjs/common';
import type {
  ThrottlerGenerateKeyFunction,
  ThrottlerGetTrackerFunction,
  ThrottlerOptions,
} from './throttler-module-options.interface.js';
import type { ThrottlerStorageRecord } from './throttler-storage.interface.js';

/** What is known about a refused request, for `errorMessage` and `throwThrottlingException`. */
export interface ThrottlerLimitDetail extends ThrottlerStorageRecord {
  ttl: number;
  limit: number;
  key: string;
  tracker: string;
}

/** One request checked against one throttler, as `handleRequest` receives it. */
export interface ThrottlerRequest {
  context: ExecutionContext;
  limit: number;
  ttl: number;
  throttler: ThrottlerOptions;
  blockDuration: number;
  getTracker: ThrottlerGetTrackerFunction;
  generateKey: ThrottlerGenerateKeyFunction;
}
