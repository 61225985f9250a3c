import type { Signals } from './suspicion.js';

/** An endpoint's traffic over the window. */
export interface EndpointTraffic {
  /** The target its rules count per (`Controller.handler` for a Nest route), or `(other)`. */
  readonly endpoint: string;
  readonly requests: number;
  /** Requests refused, or answered with a status of 400 or more. */
  readonly errors: number;
}

/**
 * A DDoS attack began (`phase: 'start'`: the requests of the window reached `threshold`) or ended
 * (`'end'`: they fell under half of it) on the instance that publishes it.
 */
export interface DdosAttackEvent {
  readonly phase: 'start' | 'end';
  /** Requests decided by this instance within the window. */
  readonly requests: number;
  readonly threshold: number;
  readonly windowMs: number;
  /** The busiest endpoints of the window (at most 5). */
  readonly endpoints: readonly EndpointTraffic[];
  /** Clients found suspect so far in this attack. */
  readonly suspects: number;
  /** Epoch ms at which the attack began. */
  readonly sinceMs: number;
  /** Epoch ms. */
  readonly atMs: number;
}

/** A client whose suspicion score reached `scoreThreshold` during an attack (once per client and attack). */
export interface DdosSuspectEvent {
  /** Its address key (what a DDoS block targets). */
  readonly key: string;
  readonly address: string;
  /** Its suspicion score, in [0, 1]. */
  readonly score: number;
  /** The score's signals, each in [0, 1]. */
  readonly signals: Signals;
  /** Its requests within the window. */
  readonly requests: number;
  /** Whether a block is being written (`autoBlock`). */
  readonly blocking: boolean;
  /** Epoch ms. */
  readonly atMs: number;
}
