import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { rateLimitStoreContract } from './contracts/rate-limit-store.contract.js';

rateLimitStoreContract('MemoryRateLimitStore', { create: async () => new MemoryRateLimitStore() });
