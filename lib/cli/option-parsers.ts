import { InvalidArgumentError } from 'commander';
import * as messages from '../errors/cli-messages.js';
import { parseDuration } from './durations.js';

// Commander's parsers of option values: a value they refuse is a usage error (exit 2), reported by commander.

/** A commander option parser for a duration (a usage error otherwise). */
export function durationOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(messages.badDuration());
  return ms;
}

/** A commander option parser for a whole number from `min` to `max`. */
export function integerOption(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) throw new InvalidArgumentError(messages.badInteger(min, max));
    return value;
  };
}
