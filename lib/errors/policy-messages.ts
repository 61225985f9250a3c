import { describe } from './describe.js';

export const badGroups = (value: unknown) =>
  `groups must be an object of group names to their settings ({ admin: { unlimited: true } }), got ${describe(value)}.`;

export const badGroupName = (path: string, value: unknown) => `${path}: '${String(value)}' is not a group name: 1-64 letters, digits, '_', '-' or '.'.`;

export const badGroupSettings = (path: string, value: unknown) => `${path} must be an object ({ unlimited: true } or {}), got ${describe(value)}.`;

export const badRuleGroups = (path: string, value: unknown) =>
  `${path}.groups must be a non-empty list of group names (1-64 letters, digits, '_', '-' or '.'), got ${describe(value)}.`;

export const badMethods = (path: string, value: unknown) => `${path} must be a non-empty list of HTTP methods (GET, POST...), got ${describe(value)}.`;

export const badRoutes = (value: unknown) => `routes must be a list of route entries ({ path, rules }), got ${describe(value)}.`;

export const badRoute = (path: string, value: unknown) => `${path} must be an object, got ${describe(value)}.`;

export const badRoutePath = (path: string, value: unknown, problem: string) => `${path} ${describe(value)} ${problem}.`;

export const badRouteRules = (path: string, value: unknown) =>
  `${path} must be a list of rules ([] limits nothing on the entry's paths), got ${describe(value)}.`;

export const unlimitedWithoutGroups = (path: string) =>
  `${path}: an unlimited rule needs the groups it leaves unlimited (groups: [admin]); an entry that limits nothing has rules: [].`;

export const unlimitedWithLimits = (path: string, fields: readonly string[]) =>
  `${path}: an unlimited rule takes only groups and methods, not ${fields.join(', ')}.`;

export const badExcludePaths = (value: unknown) =>
  `excludePaths must be a list of paths starting with '/' (at most 512 characters each), got ${describe(value)}.`;

export const incompleteRouteRule = (where: string, name: string) =>
  `${where}: rule '${name}' names no module rule, so it needs its own limit and windowMs. Add them, or name one of the module's rules.`;

export const uriTooLongDetail = () => 'The request path is longer than 1024 characters, the longest the rate limits of this API are matched on.';
