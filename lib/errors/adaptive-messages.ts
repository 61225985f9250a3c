import { describe, errorText } from './describe.js';

/** The error texts of adaptive limits. Each says how to fix the problem. */

export const badAdaptive = (path: string, value: unknown) =>
  `${path} must be true or an object of adaptive settings (learningRate, anomalyThreshold, min, max...), got ${describe(value)}.`;

export const unknownAdaptiveField = (path: string, field: string, fields: readonly string[]) =>
  `${path}.${field} is not an adaptive setting; the settings are ${fields.join(', ')}.`;

export const notInRange = (path: string, value: unknown, range: string) => `${path} must be a number in ${range}, got ${describe(value)}.`;

export const adaptiveMinAboveMax = (path: string, min: number, max: number, maxName: string) =>
  `${path}.min (${min}) is above ${maxName} (${max}): the effective limit could never be clamped into [min, max]. Lower min or raise ${maxName}.`;

export const adaptiveMinBelowCost = (path: string, min: number, cost: number) =>
  `${path}.min (${min}) is below the rule's cost (${cost}): a distrusted client's request could never pass. Raise min to at least the cost.`;

export const adaptiveRetentionBelowInterval = (path: string, retentionMs: number, intervalMs: number) =>
  `${path}.retentionMs (${retentionMs}) is shorter than intervalMs (${intervalMs}): a client's state would be forgotten before its first interval closes. Raise retentionMs.`;

export const adaptiveStoreFailed = (operation: 'read' | 'write', key: string, error: unknown) =>
  `Adaptive limits: the ${operation} of ${JSON.stringify(key)}'s state failed (${errorText(error)}); ${operation === 'read' ? 'the client is counted from a fresh state' : 'the next interval writes it again'}.`;

export const adaptiveStateDiscarded = (key: string) =>
  `Adaptive limits: the stored state of ${JSON.stringify(key)} is malformed; the client is counted from a fresh state.`;
