import { loadConfigFile, type LoadedConfigFile } from '../config-file/index.js';
import type { FixedRateLimitRule as RateLimitRule } from '../engine/rule.interface.js';
import * as messages from '../errors/cli-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { CliError } from './cli-error.js';
import type { Simulation } from './simulation.js';

/** A configuration file read and validated, or a CliError listing its problems on one line (exit 1). */
export async function readConfigFile(path: string): Promise<LoadedConfigFile> {
  try {
    return await loadConfigFile(path);
  } catch (error) {
    if (error instanceof RateLimitConfigurationError) throw new CliError(messages.invalidConfigFile(path, error.problems));
    throw error;
  }
}

/**
 * The rule named `name` of a configuration file, ready to simulate on its own: its `groups` left out
 * (the simulated client is one the rule counts) and its escalation off, like the module's; and the
 * headers the file's app sends.
 */
export async function ruleFromConfigFile(path: string, name: string): Promise<Pick<Simulation, 'rule' | 'headers'>> {
  const { options } = await readConfigFile(path);
  const named = [options.rules ?? []].flat() as RateLimitRule[];
  // The rules of route entries too: one that names a module rule without its own limit takes its fields.
  const routed = (options.routes ?? []).flatMap((route) =>
    route.rules
      .filter((rule) => rule.unlimited !== true)
      .map(({ methods: _methods, zone: _zone, unlimited: _unlimited, ...rule }) => {
        const base = named.find((r) => (r.name ?? 'default') === (rule.name ?? 'default'));
        return { ...base, ...rule } as RateLimitRule;
      }),
  );
  const rules = [...named, ...routed];
  const found = rules.find((rule) => (rule.name ?? 'default') === name);
  if (found === undefined) throw new CliError(messages.unknownRule(name, [...new Set(rules.map((rule) => rule.name ?? 'default'))]));
  const { groups: _groups, ...rule } = found;
  const headers = {
    ...(options.standardHeaders !== undefined ? { standardHeaders: options.standardHeaders } : {}),
    ...(options.legacyHeaders !== undefined ? { legacyHeaders: options.legacyHeaders } : {}),
  };
  return { rule: { ...rule, name, escalation: false }, headers };
}
