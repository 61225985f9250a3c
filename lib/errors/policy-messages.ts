import { describe } from './describe.js';

export const badGroups = (value: unknown) =>
  `groups must be an object of group names to their settings ({ admin: { unlimited: true } }), got ${describe(value)}.`;

export const badGroupName = (path: string, value: unknown) => `${path}: '${String(value)}' is not a group name: 1-64 letters, digits, '_', '-' or '.'.`;

export const badGroupSettings = (path: string, value: unknown) => `${path} must be an object ({ unlimited: true } or {}), got ${describe(value)}.`;

export const badRuleGroups = (path: string, value: unknown) =>
  `${path}.groups must be a non-empty list of group names (1-64 letters, digits, '_', '-' or '.'), got ${describe(value)}.`;
