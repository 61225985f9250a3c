import { ApiDoc } from '../admin-openapi.js';

/** One client's standing under one adaptive rule (see "Adaptive limits" in the README). */
export class AdminAdaptiveView {
  @ApiDoc({ description: 'Rule name.', type: 'string' })
  rule!: string;
  @ApiDoc({ description: 'What the rule counts per: `Controller.handler`, or its scope.', type: 'string' })
  route!: string;
  @ApiDoc({ description: "Baseline μ: the exponential moving average of the client's requests per interval.", type: 'number' })
  baseline!: number;
  @ApiDoc({ description: 'Deviation σ = √variance of its requests per interval around the baseline.', type: 'number' })
  deviation!: number;
  @ApiDoc({ description: 'Variance σ² (its exponential moving average).', type: 'number' })
  variance!: number;
  @ApiDoc({ description: 'z-score of the last closed interval: (requests − μ) / max(σ, minDeviation).', type: 'number' })
  zScore!: number;
  @ApiDoc({ description: "z-score of the open interval's requests so far (0 during the warm-up).", type: 'number' })
  currentZScore!: number;
  @ApiDoc({ description: 'Trust score, from 0 to 1.', type: 'number', minimum: 0, maximum: 1 })
  trust!: number;
  @ApiDoc({ description: "The limit the client's next request is counted under: ⌊base × trust / initialTrust⌋ clamped to [min, max].", type: 'integer' })
  effectiveLimit!: number;
  @ApiDoc({ description: "The rule's own limit.", type: 'integer' })
  baseLimit!: number;
  @ApiDoc({ description: 'Length of a sampling interval (ms).', type: 'integer' })
  intervalMs!: number;
  @ApiDoc({ description: 'Start of the open interval.', type: 'string', format: 'date-time' })
  intervalStart!: string;
  @ApiDoc({ description: 'Requests in the open interval so far (on the instance that answers).', type: 'integer' })
  requestsInInterval!: number;
  @ApiDoc({ description: 'Closed intervals folded into the baseline (the anomaly test waits for `warmupIntervals`).', type: 'integer' })
  samples!: number;
  @ApiDoc({ description: 'Whether the open interval was found an anomaly (the trust was cut).', type: 'boolean' })
  anomaly!: boolean;
  @ApiDoc({ description: 'Whether the rule refused the client in the open interval (the trust was cut).', type: 'boolean' })
  refused!: boolean;
}
