/** The texts of outcome-aware rules' errors (`countIf`, `consecutive`, the login-protection preset, guard order). */
import { describe, errorText } from './describe.js';

export const badCountIf = (path: string, value: unknown) =>
  `${path} must be 'failed', 'succeeded' or a function of the request's outcome returning true to count it, got ${describe(value)}.`;

export const consecutiveWithoutCountIf = (path: string) =>
  `${path}.consecutive needs ${path}.countIf: it resets the count on an outcome countIf does not count. Add countIf (such as 'failed'), or remove consecutive.`;

export const countIfWithVaryingLimits = (path: string) =>
  `${path}.countIf cannot be combined with dynamic limits or adaptive: the units a request reserved could not be given back under the limits it was counted by. Put countIf on a rule of its own with fixed limits.`;

export const predicateThrew = (rule: string, error: unknown) =>
  `The countIf of rule '${rule}' threw (${errorText(error)}): the request was counted. Make countIf return true or false; this is logged once per rule.`;

export const refundFailed = (rule: string, error: unknown) =>
  `An uncounted outcome of rule '${rule}' could not be given back to the store (${errorText(error)}): the request stays counted.`;

export const badWaitMs = (path: string, value: unknown, max: number) =>
  `${path} must be a whole number of milliseconds from 0 to ${max}, got ${describe(value)}: how long a request refused by units that requests in flight hold waits for them.`;

export const waitMsWithoutCountIf = (path: string) =>
  `${path}.waitMs needs ${path}.countIf: only units that outcome-aware rules hold for requests in flight come back to wait for. Add countIf (such as 'failed'), or remove waitMs.`;

export const consecutiveOnSlidingLog = (path: string) =>
  `${path}.consecutive cannot be used with the sliding-log algorithm: its log of request times cannot be reset without lifting a running block. Use fixed-window, sliding-window, token-bucket or gcra.`;

export const guardAfterOtherGuard = (route: string, guards: readonly string[]) =>
  `${route} has rules that count outcomes (countIf), but ${guards.join(', ')} run${guards.length === 1 ? 's' : ''} before RateLimitGuard at a level Rampart cannot reorder (a global guard before a route's, or a controller's before a method's): requests ${guards.length === 1 ? 'it refuses' : 'they refuse'} would never be counted. Register RateLimitGuard globally (registerGlobalGuard: true), or name it in the same @UseGuards as ${guards.length === 1 ? 'that guard' : 'those guards'}.`;

export const storeWithoutRefund = (store: string) =>
  `A rule counts some outcomes only (countIf), but the rate-limit store (${store}) cannot give units back (it has no refund method): such a rule would count every request. Use a store that implements refund (memory, MongoDB, Redis), or remove countIf.`;

export const countIfAfterStartup = (rule: string) =>
  `Rule '${rule}' counts outcomes (countIf), but no module rule or route entry did when the app started: what settles outcomes is put in place at startup only. Restart the app to apply it, or remove countIf (or start with a countIf rule in the file).`;

export const countIfOnGateway = (rule: string, handler: string) =>
  `Rule '${rule}' counts outcomes (countIf), but WebSocket messages have no outcome Rampart can see: it does not count the messages of ${handler} or of any other gateway handler. Limit them with a rule without countIf.`;
