import { Option, type Command } from 'commander';
import { ALGORITHM_NAMES, type AlgorithmName } from '../../core/algorithms/index.js';
import type { FixedRateLimitRule as RateLimitRule } from '../../engine/rule.interface.js';
import * as messages from '../../errors/cli-messages.js';
import { RateLimitConfigurationError } from '../../errors/rate-limit-configuration.error.js';
import { usageError } from '../cli-error.js';
import { formatDuration } from '../durations.js';
import { integerOption } from '../option-parsers.js';
import { printJson, printLine } from '../output.js';
import type { SimulatedRequest, Simulation } from '../simulation.js';

/** Most requests one run simulates. */
const MAX_REQUESTS = 100_000;

interface TestOptions {
  readonly rule: string;
  readonly config?: string;
  readonly identifier: string;
  readonly requests: number;
  readonly intervalMs: number;
  readonly limit?: number;
  readonly windowMs?: number;
  readonly algorithm?: AlgorithmName;
  readonly burst?: number;
  readonly json?: boolean;
}

/** `rampart test`: one client's requests under one rule, simulated offline with the real algorithms. */
export function addTestCommand(program: Command): void {
  program
    .command('test')
    .description(
      "simulate one client's requests under a rule, offline (no app needed), with the real algorithms and a clock advanced by --interval-ms; " +
        "escalation is off, so what shows is the rule alone (with its own blockDurationMs), not the blocks and bans an app's escalation would add",
    )
    .option('--rule <name>', 'the rule to test: its name in the configuration file, or the name the inline rule gets', 'default')
    .option('--config <file>', 'take the rule from this configuration file (YAML or JSON), by its --rule name')
    .requiredOption('--identifier <client>', 'the client: an address (203.0.113.7) or an identity (user-42)')
    .addOption(new Option('--requests <n>', `how many requests (1 to ${MAX_REQUESTS})`).argParser(integerOption(1, MAX_REQUESTS)).makeOptionMandatory())
    .option('--interval-ms <ms>', 'time between two requests, in milliseconds', integerOption(0), 0)
    .option('--limit <n>', 'inline rule: requests (cost units) per window', integerOption(1))
    .option('--window-ms <ms>', 'inline rule: the window, in milliseconds', integerOption(1))
    .addOption(new Option('--algorithm <name>', 'inline rule: how requests are counted (default sliding-window)').choices(ALGORITHM_NAMES))
    .option('--burst <n>', 'inline rule, token-bucket and gcra: requests that may arrive at once', integerOption(1))
    .option('--json', 'print the requests and the summary as JSON')
    .action(async (options: TestOptions) => {
      const { rule, headers } = options.config !== undefined ? await configRule(options.config, options) : { rule: inlineRule(options), headers: {} };
      const simulation: Simulation = { rule, headers, identifier: options.identifier, requests: options.requests, intervalMs: options.intervalMs };
      const results = await run(simulation);
      const allowed = results.filter((r) => r.allowed).length;
      const summary = { allowed, denied: results.length - allowed, requests: results.length };
      if (options.json) return printJson({ rule, identifier: options.identifier, intervalMs: options.intervalMs, results, summary });
      for (const line of requestLines(results, options.intervalMs > 0)) printLine(line);
      printLine(
        `${summary.allowed} allowed, ${summary.denied} denied of ${summary.requests} requests from ${options.identifier}` +
          `${options.intervalMs > 0 ? `, one every ${formatDuration(options.intervalMs)}` : ', all at once'}` +
          ` (rule ${JSON.stringify(rule.name)}: ${ruleText(rule)})`,
      );
    });
}

/** The rule of a configuration file (loaded only here: the other commands start without the YAML parser). */
async function configRule(path: string, options: TestOptions): Promise<Pick<Simulation, 'rule' | 'headers'>> {
  const inline = (['limit', 'windowMs', 'algorithm', 'burst'] as const).filter((flag) => options[flag] !== undefined);
  if (inline.length > 0) throw usageError(messages.inlineRuleWithConfig(inline.map((flag) => `--${flag.replace('Ms', '-ms')}`)));
  const { ruleFromConfigFile } = await import('../config-file-rules.js');
  return ruleFromConfigFile(path, options.rule);
}

/** The rule the inline flags describe. */
function inlineRule(options: TestOptions): RateLimitRule {
  if (options.limit === undefined || options.windowMs === undefined) throw usageError(messages.inlineRuleNeeded());
  return {
    name: options.rule,
    limit: options.limit,
    windowMs: options.windowMs,
    ...(options.algorithm !== undefined ? { algorithm: options.algorithm } : {}),
    ...(options.burst !== undefined ? { burst: options.burst } : {}),
  };
}

/**
 * The simulation, an invalid rule reported as a usage error (the flags described it). The engine is
 * loaded here, not with the CLI: the commands that talk to an app start without it.
 */
async function run(simulation: Simulation): Promise<SimulatedRequest[]> {
  const { simulate } = await import('../simulation.js');
  try {
    return await simulate(simulation);
  } catch (error) {
    if (error instanceof RateLimitConfigurationError) throw usageError(messages.invalidRule(error.problems));
    throw error;
  }
}

/** `#3 denied   RateLimit: …  RateLimit-Policy: …  Retry-After: 60`, the number and time padded to line up. */
function requestLines(results: readonly SimulatedRequest[], timed: boolean): string[] {
  const numbers = results.map((result) => `#${result.request}`);
  const times = results.map((result) => (timed ? `+${formatDuration(result.atMs)}` : ''));
  const numberWidth = Math.max(...numbers.map((n) => n.length));
  const timeWidth = Math.max(...times.map((time) => time.length));
  return results.map((result, i) => {
    const verdict = result.shadowLimited ? 'allowed (shadow rule: would be denied)' : result.allowed ? 'allowed' : 'denied ';
    const where = [numbers[i]!.padEnd(numberWidth), ...(timed ? [times[i]!.padEnd(timeWidth)] : [])].join(' ');
    const headers = Object.entries(result.headers).map(([name, value]) => `${name}: ${value}`);
    return [`${where} ${verdict}`, ...headers].join('  ');
  });
}

function ruleText(rule: RateLimitRule): string {
  const burst = rule.burst !== undefined ? `, burst ${rule.burst}` : '';
  return `${rule.algorithm ?? ALGORITHM_NAMES[0]}, ${rule.limit} per ${formatDuration(rule.windowMs)}${burst}`;
}
