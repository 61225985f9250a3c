import { describe } from './describe.js';

// Texts about giving reserved units back (RateLimitStore.refund).

export const badStoreRefund = (value: unknown) =>
  `store.refund must be a function refund(key, rule, nowMs, cost, reservedAtMs), or absent for a store that cannot give units back; got ${describe(value)}.`;

export const refundFailed = (key: string, reason: string) =>
  `Rampart: giving back reserved units failed (key ${JSON.stringify(key)}: ${reason}); they count against their key until their ` +
  'window ends. Further failures are summed up once refunds succeed again.';

export const refundsSkippedStoreDown = (key: string) =>
  `Rampart: the rate-limit store is down, so reserved units are not given back (first: key ${JSON.stringify(key)}); they count ` +
  'against their key until their window ends.';

export const refundsRecovered = (missed: number) =>
  `Rampart: reserved units are given back again; ${missed} more refund${missed === 1 ? '' : 's'} failed meanwhile (their units count until their window ends).`;

export const storeCannotRefund = (storeName: string) =>
  `The rate-limit store ${storeName} has no refund(key, rule, nowMs, cost, reservedAtMs) method, which a rule that counts only ` +
  'some outcomes needs to give back the units of the others. Implement RateLimitStore.refund, or use the memory, MongoDB or Redis store.';
