import { IsInt, IsString, Matches, Min } from 'class-validator';
import { ApiDoc } from '../admin-openapi.js';
import { Optional, ToInteger } from './admin-validators.js';

/** Default window of `GET /stats`: the last minute. */
export const DEFAULT_STATS_WINDOW_MS = 60_000;
/** Shortest window of `GET /stats`. */
export const MIN_STATS_WINDOW_MS = 1_000;
/** An instance name as DecisionRecorder makes it (`<host>:<pid>:<random>`): 1 to 200 characters, no control characters. */
const INSTANCE_PATTERN = '^[^\\u0000-\\u001f\\u007f]{1,200}$';

/** Query of `GET /stats`. */
export class StatsQuery {
  @ApiDoc({
    description: `The window, in milliseconds: from ${MIN_STATS_WINDOW_MS} to stats.retentionMs (900000 by default). Rounded out to whole buckets (stats.bucketMs, 10 s by default).`,
    type: 'integer',
    required: false,
    minimum: MIN_STATS_WINDOW_MS,
    default: DEFAULT_STATS_WINDOW_MS,
  })
  @Min(MIN_STATS_WINDOW_MS)
  @IsInt()
  @ToInteger()
  windowMs: number = DEFAULT_STATS_WINDOW_MS;

  @ApiDoc({
    description: "Only this instance's figures (an `instances[].instance` of the fleet view); absent: every instance's, summed.",
    type: 'string',
    pattern: INSTANCE_PATTERN,
    minLength: 1,
    maxLength: 200,
    required: false,
  })
  @Matches(new RegExp(INSTANCE_PATTERN, 'u'), { message: 'instance must be an instance name (1 to 200 characters, no control characters)' })
  @IsString()
  @Optional()
  instance?: string;
}
