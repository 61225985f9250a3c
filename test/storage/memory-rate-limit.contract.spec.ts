import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { rateLimitStoreContract } from './contracts/rate-limit-store.contract.js';
import { rateLimitRefundContract } from './contracts/rate-limit-refund.contract.js';

rateLimitStoreContract('MemoryRateLimitStore', { create: async () => new MemoryRateLimitStore() });
rateLimitRefundContract('MemoryRateLimitStore', { create: async () => new MemoryRateLimitStore() });
