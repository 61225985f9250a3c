import { escapeControls, type LogFields } from '../core/logger.js';
import { shadowedClientKey } from '../engine/store-keys.js';
import type { BanEvent, BlockEvent, UnbanEvent, ViolationEvent } from '../events/rate-limit-events.js';
import type { BanTarget } from '../storage/ban-store.interface.js';
import { limitType } from './decision-outcome.js';

/**
 * One line of the event log: a sentence to read, and the fields to search and count by. Every
 * value put into the sentence (client keys, routes, rule names, reasons, operators) has its control
 * characters escaped, so that a client key holding a line break cannot forge a line; the fields
 * carry the values as they are (a text logger escapes them with `fieldsAsText`).
 */
export interface EventLine {
  readonly message: string;
  readonly fields: LogFields;
}

/** What a violation line says of the request (kept for the key's summary and its block or ban line). */
export interface ViolationContext {
  readonly rule: string;
  readonly route: string;
  readonly method: string;
  readonly limitType: string;
  readonly count: number;
  readonly limit: number;
}

/** The fields naming who an event concerns: `key` (or `cidr`), and `shadow: true` for a shadow key's. */
function who(target: BanTarget): { readonly name: string; readonly fields: LogFields; readonly shadow: boolean } {
  if (target.type === 'cidr') return { name: escapeControls(target.cidr), fields: { cidr: target.cidr }, shadow: false };
  const shadowed = shadowedClientKey(target.key);
  return shadowed === undefined
    ? { name: escapeControls(target.key), fields: { key: target.key }, shadow: false }
    : { name: escapeControls(shadowed), fields: { key: shadowed, shadow: true }, shadow: true };
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** Where a violation happened, for a sentence: `rule '<rule>' on <route>`, escaped. */
const ruleOnRoute = ({ rule, route }: ViolationContext) => `rule '${escapeControls(rule)}' on ${escapeControls(route)}`;

export function violationContext(event: ViolationEvent): ViolationContext {
  const { rule, route, method, hits, limit } = event;
  return { rule, route, method, limitType: limitType(event.protocol, method), count: hits, limit };
}

export function violationLine(key: string, context: ViolationContext): EventLine {
  const { name, fields, shadow } = who({ type: 'key', key });
  const what = `${ruleOnRoute(context)}, ${context.count} of ${context.limit}`;
  return {
    message: shadow ? `Rate limit would have been exceeded by ${name} (shadow mode): ${what}` : `Rate limit exceeded by ${name}: ${what}`,
    fields: { event: 'violation', ...fields, ...context },
  };
}

/** The summary of a key's violations left out during one interval (the last one's context). */
export function suppressedLine(key: string, suppressed: number, intervalMs: number, last: ViolationContext): EventLine {
  const { name, fields, shadow } = who({ type: 'key', key });
  return {
    message: `${suppressed} more ${shadow ? 'shadow ' : ''}violation${suppressed === 1 ? '' : 's'} by ${name} within ${seconds(intervalMs)} not logged one by one (last: ${ruleOnRoute(last)})`,
    fields: { event: 'violations_suppressed', ...fields, suppressed, intervalMs, ...last },
  };
}

/** The violations of keys beyond `maxKeys`, counted only. */
export function overflowLine(suppressed: number, maxKeys: number): EventLine {
  return {
    message: `${suppressed} violation${suppressed === 1 ? '' : 's'} by clients beyond the ${maxKeys} followed not logged one by one`,
    fields: { event: 'violations_suppressed', suppressed, maxKeys },
  };
}

export function blockLine(event: BlockEvent, last: ViolationContext | undefined): EventLine {
  const { name, fields, shadow } = who(event.target);
  const { durationMs, source, reason, ban } = event;
  return {
    message: `${name} ${shadow ? 'would have been blocked (shadow mode)' : 'blocked'} for ${seconds(durationMs)} (${source}): ${escapeControls(reason)}`,
    fields: {
      event: 'block',
      ...fields,
      ...last,
      durationMs,
      until: new Date(event.untilMs).toISOString(),
      source,
      reason,
      blockCount: event.blockCount,
      by: ban.createdBy,
    },
  };
}

export function banLine(event: BanEvent, last: ViolationContext | undefined): EventLine {
  const { name, fields, shadow } = who(event.target);
  const { source, reason, ban } = event;
  return {
    message: `${name} ${shadow ? 'would have been banned (shadow mode)' : 'banned'} (${source}): ${escapeControls(reason)}`,
    fields: { event: 'ban', ...fields, ...last, durationMs: null, source, reason, by: ban.createdBy },
  };
}

export function unbanLine(event: UnbanEvent): EventLine {
  const { name, fields, shadow } = who(event.target);
  const lifted = event.ban === null ? 'none' : event.ban.kind === 'permanent' ? 'ban' : 'block';
  const what = { ban: 'Ban', block: 'Block', none: 'Nothing' }[lifted];
  return {
    message: `${shadow ? 'Shadow mode: ' : ''}${what} of ${name} lifted by ${escapeControls(event.by)}${event.clearHistory ? ', history cleared' : ''}`,
    fields: { event: 'unban', ...fields, by: event.by, lifted, clearHistory: event.clearHistory },
  };
}
