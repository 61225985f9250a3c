/**
 * The texts of the errors and warnings of concurrency limits (leases), WebSocket connections and
 * GraphQL operations; `messages.ts` re-exports them with the rest.
 */
import { describe, errorText } from './describe.js';

// GraphQL operations.

export const badFieldCost = (path: string, value: unknown) =>
  `${path} must be a number of 0 or more, or { value, multipliers } with such a value, got ${describe(value)}.`;

export const badMultipliers = (path: string, value: unknown) => `${path} must be a list of argument names, got ${describe(value)}.`;

export const documentTooLarge = (length: number, max: number) =>
  `The GraphQL document is ${length} characters long; at most ${max} are accepted. Send a shorter query (persisted queries, fewer fields).`;

export const documentTooNested = (max: number) =>
  `The GraphQL document nests braces, brackets or parentheses more than ${max} deep; at most ${max} are accepted. Select fewer levels of nested fields.`;

export const tooManySubscriptionConnections = (max: number) =>
  `At most ${max} open subscription connection${max === 1 ? '' : 's'} per client: close one before opening another.`;

export const operationTooDeep = (max: number) =>
  `The GraphQL operation nests fields more than ${max} levels deep; at most ${max} are accepted. Select fewer levels of nested fields.`;

export const operationTooComplex = (complexity: number, max: number) =>
  `The GraphQL operation has complexity ${complexity}; at most ${max} is accepted. Select fewer fields, or ask for fewer items (first, limit).`;

// Leases (concurrency limits).

export const noLeaseStore = () =>
  'This limit needs a lease store (storage.leases) to count its slots across instances; memoryStorage() and mongoStorage() have one, a custom storage must add it.';

export const leaseStoreFailed = (action: 'take' | 'renew' | 'give back', error: unknown) =>
  `Could not ${action} a lease in the lease store (${errorText(error)}); leases not renewed lapse after leaseMs.`;

// WebSocket connections.

export const badWebsocketsOption = (value: unknown) =>
  `websockets must be an object such as { maxConnections: 5, connectionRate: { limit: 20, windowMs: 60000 } }, got ${describe(value)}.`;

export const unknownWebsocketsField = (field: string, fields: readonly string[]) =>
  `websockets.${field} is not an option; the options are ${fields.join(', ')}.`;

export const badConnectionRate = (value: unknown, field = 'connectionRate') =>
  `websockets.${field} must be a rule such as { limit: 20, windowMs: 60000 }, got ${describe(value)}.`;

export const tooManyConnections = (max: number) => `Too many open connections: at most ${max} per client. Close one and connect again.`;

export const leasesNeededForConnections = () =>
  `websockets.maxConnections needs a lease store (storage.leases) to count connections across instances; memoryStorage() and mongoStorage() have one, a custom storage must add it.`;

export const handshakeCheckFailed = (error: unknown) =>
  `A WebSocket handshake could not be checked and was refused: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;

export const handshakeUnchecked = () => 'The connection could not be checked. Try again.';

export const recoverySkipsHandshakeCheck = () =>
  "A socket.io gateway has connectionStateRecovery without skipMiddlewares: false: socket.io then lets a recovered connection skip Rampart's handshake check (bans, lists, connection limits). Set connectionStateRecovery: { skipMiddlewares: false }.";

export const tooManyEarlyMessages = (max: number) => `More than ${max} messages before the connection was admitted.`;
