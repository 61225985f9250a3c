import { describe } from './describe.js';

// The `stats` option's problems and the shadow-mode switch (re-exported by messages.ts).

export const badStats = (value: unknown) => `stats must be an object of statistics options or false, got ${describe(value)}.`;

export const badNearLimitRatio = (value: unknown) => `stats.nearLimitRatio must be a number above 0 and at most 1, got ${describe(value)}.`;

export const retentionBelowBucket = (retentionMs: number, bucketMs: number) =>
  `stats.retentionMs (${retentionMs}) must be at least stats.bucketMs (${bucketMs}).`;

export const tooManyStatsBuckets = (kept: number, max: number, bucketBytes: number, budgetBytes: number, fix: { bucketMs: number; retentionMs: number }) =>
  `stats.retentionMs / stats.bucketMs keeps ${kept} buckets per instance, more than the ${max} whose summary (up to ${bucketBytes} bytes each with these stats.topKeys and stats.maxRuleLabels) stays within ${budgetBytes} bytes, well below a MongoDB document's 16 MB. ` +
  `Raise stats.bucketMs to at least ${fix.bucketMs}, shorten stats.retentionMs to at most ${fix.retentionMs}, or lower stats.topKeys or stats.maxRuleLabels.`;

export const reportIntervalNotBelowRetention = (reportIntervalMs: number, retentionMs: number) =>
  `stats.reportIntervalMs (${reportIntervalMs}) must be less than stats.retentionMs (${retentionMs}): each summary is kept retentionMs after it is written, so an instance's figures would expire between its writes. Shorten stats.reportIntervalMs or raise stats.retentionMs.`;

export const topKeysAboveCapacity = (topKeys: number, capacity: number) =>
  `stats.topKeys (${topKeys}) is more than the ${capacity} client keys a bucket counts refusals of; set it to at most ${capacity}.`;

export const badShadowEnv = (env: string, value: unknown) => `${env} must be true, 1, on, yes, false, 0, off or no, got ${describe(value)}.`;
