import type { ConsumeResult, RateLimitStore } from '../../lib/index.js';

/** A counter store whose every call fails, as a store that is down. */
export class DownStore implements RateLimitStore {
  consume(): Promise<ConsumeResult> {
    return Promise.reject(new Error('connection refused'));
  }
  get(): Promise<ConsumeResult | null> {
    return Promise.reject(new Error('connection refused'));
  }
  reset(): Promise<void> {
    return Promise.resolve();
  }
}
