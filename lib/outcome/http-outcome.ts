import type { ExecutionContext } from '@nestjs/common';
import type { Rampart } from '../engine/rampart.js';
import type { RampartRequest } from '../engine/rampart-request.js';
import type { Verdict } from '../engine/verdict.js';
import { rawResponse } from '../http-exchange.js';

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
  if (raw === undefined || typeof raw.statusCode !== 'number' || raw.closed === true) {
    void rampart.outcomes.settle(reservation, undefined);
    return true;
  }
  raw.once('close', () => {
    void rampart.outcomes.settle(reservation, raw.writableFinished === true ? { protocol: 'http', status: raw.statusCode } : undefined);
  });
  return true;
}
