import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { sharedLoginScenario } from './shared-login.scenario.js';

describe('failed logins counted in one memory store by two instances', () => {
  const store = new MemoryRateLimitStore();
  sharedLoginScenario(() => Promise.resolve({ store, close: () => Promise.resolve() }));
});
