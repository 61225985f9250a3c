import type { ExecutionContext } from '@nestjs/common';
import type { Rampart } from '../engine/rampart.js';
import type { RampartRequest } from '../engine/rampart-request.js';
import type { Verdict } from '../engine/verdict.js';

/** What Rampart reads of a Node response (Express's `res`, Fastify's `reply.raw`). */
interface RawResponse {
  readonly statusCode: number;
  readonly writableFinished?: boolean;
  readonly closed?: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** The Node response under an Express response or a Fastify reply; undefined when there is none. */
function rawResponse(response: unknown): RawResponse | undefined {
  const raw = ((response as { raw?: unknown } | null)?.raw ?? response) as Partial<RawResponse> | null | undefined;
  return typeof raw?.once === 'function' && typeof raw.statusCode === 'number' ? (raw as RawResponse) : undefined;
}

/**
 * Settles an admitted HTTP request under its outcome-aware rules once its response is done: the
 * final status is the outcome, whatever produced it (the handler, an exception filter, a guard
 * after Rampart's). A request whose client went away before the response was written (a
 * connection closed first) is counted under every rule, as is one whose response cannot be
 * watched. A refused request is settled at once, as a 429.
 */
export function settleOnResponse(
  rampart: Rampart<ExecutionContext>,
  request: Pick<RampartRequest<ExecutionContext>, 'storeKey' | 'protocol'> & { readonly context: ExecutionContext },
  verdict: Verdict<ExecutionContext>,
): true {
  if (verdict.outcome !== 'admitted') {
    rampart.outcomes.refused(verdict, request);
    return true;
  }
  const reservation = rampart.outcomes.reserve(verdict, request);
  if (reservation === undefined) return true;
  const raw = rawResponse(request.context.getArgByIndex<unknown>(1));
  // No outcome to read: counted under every rule (fails closed).
  if (raw === undefined || raw.closed === true) {
    void rampart.outcomes.settle(reservation, undefined);
    return true;
  }
  raw.once('close', () => {
    void rampart.outcomes.settle(reservation, raw.writableFinished === true ? { protocol: 'http', status: raw.statusCode } : undefined);
  });
  return true;
}
