import type { LeaseStore } from '../../lib/index.js';

/** A lease store whose every call fails, as a store that is down. */
export const downLeases: LeaseStore = {
  acquire: () => Promise.reject(new Error('connection refused')),
  release: () => Promise.reject(new Error('connection refused')),
  renew: () => Promise.reject(new Error('connection refused')),
  releaseHolder: () => Promise.reject(new Error('connection refused')),
  count: () => Promise.reject(new Error('connection refused')),
};
