import { DDOS_SLOTS, type DdosWeights } from './ddos-options.js';
import { SlotRing } from './slot-ring.js';

/** Distinct endpoints a client's state remembers: the spread signal is full at this many. */
export const CLIENT_ENDPOINTS = 8;

/** The signals of one client's traffic over the window, each in [0, 1]. */
export interface Signals {
  readonly rate: number;
  readonly burst: number;
  readonly spread: number;
  readonly errors: number;
}

/** What a client's signals are computed from. */
export interface TrafficFigures {
  /** Requests in the window. */
  readonly requests: number;
  /** The most requests of one slot. */
  readonly peak: number;
  /** Distinct endpoints in the window (at most CLIENT_ENDPOINTS). */
  readonly endpoints: number;
  /** Requests refused, or answered with a status of 400 or more. */
  readonly errors: number;
}

/**
 * The signals (see the README's "DDoS detection"), with n requests, S slots, E = CLIENT_ENDPOINTS:
 * - rate = min(1, n / clientThreshold)
 * - burst = (peak·S/n − 1) / (S − 1) · min(1, n / S): 0 when requests are spread evenly over the
 *   window, 1 when they all came in one slot (damped while there are fewer requests than slots)
 * - spread = (d − 1) / (E − 1) for d distinct endpoints
 * - errors = min(1, e / n)
 */
export function signals(figures: TrafficFigures, clientThreshold: number): Signals {
  const { requests: n, peak, endpoints, errors } = figures;
  if (n <= 0) return { rate: 0, burst: 0, spread: 0, errors: 0 };
  return {
    rate: Math.min(1, n / clientThreshold),
    burst: Math.max(0, ((peak * DDOS_SLOTS) / n - 1) / (DDOS_SLOTS - 1)) * Math.min(1, n / DDOS_SLOTS),
    spread: Math.max(0, (endpoints - 1) / (CLIENT_ENDPOINTS - 1)),
    errors: Math.min(1, errors / n),
  };
}

/** The suspicion score: the signals' weighted sum (weights summing to 1), in [0, 1]. */
export function suspicionScore(s: Signals, w: DdosWeights): number {
  return Math.min(1, w.rate * s.rate + w.burst * s.burst + w.spread * s.spread + w.errors * s.errors);
}

/**
 * One client's traffic: its requests and errors per slot, and the last slot it reached each of its
 * CLIENT_ENDPOINTS most recent endpoints in. Fixed-size: its memory is the same after one request or
 * a million, to one endpoint or to thousands.
 */
export class ClientTraffic {
  readonly ring = new SlotRing();
  private readonly endpointIds = new Int32Array(CLIENT_ENDPOINTS).fill(-1);
  private readonly endpointSlots = new Float64Array(CLIENT_ENDPOINTS);
  /** The attack (by number) in which this client was last found suspect; 0: none. */
  flaggedIn = 0;

  /** Counts a request to endpoint `endpoint` (a small id) in `slot`. */
  add(slot: number, endpoint: number, error: boolean): void {
    this.ring.add(slot, error);
    let oldest = 0;
    for (let i = 0; i < CLIENT_ENDPOINTS; i++) {
      if (this.endpointIds[i] === endpoint) {
        if (this.endpointSlots[i]! < slot) this.endpointSlots[i] = slot;
        return;
      }
      if (this.endpointIds[i] === -1 || this.endpointSlots[i]! < this.endpointSlots[oldest]!) oldest = i;
      if (this.endpointIds[i] === -1) break;
    }
    this.endpointIds[oldest] = endpoint;
    this.endpointSlots[oldest] = slot;
  }

  /** Its figures over the window that ends in `slot`. */
  figures(slot: number): TrafficFigures {
    this.ring.advance(slot);
    let endpoints = 0;
    for (let i = 0; i < CLIENT_ENDPOINTS; i++) if (this.endpointIds[i] !== -1 && this.endpointSlots[i]! > slot - DDOS_SLOTS) endpoints++;
    return { requests: this.ring.total, peak: this.ring.peak(), endpoints, errors: this.ring.errors };
  }

  /** The bytes of its typed arrays (what the memory bound counts, besides a fixed object overhead). */
  static readonly arrayBytes = 2 * DDOS_SLOTS * 4 + CLIENT_ENDPOINTS * (4 + 8);
}
