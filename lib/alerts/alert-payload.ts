import type { AlertEvent, AlertStats } from '../events/rate-limit-events.js';
import type { StatsReport } from '../observability/fleet-stats.js';

/** Most rules and client keys an alert lists. */
export const ALERT_TOP = 5;

const METRIC_NAMES = { blockRate: 'block rate', violationsPerMinute: 'violations per minute', ddosScore: 'DDoS suspicion score' } as const;

/** The figures of a stats report an alert carries. */
export function alertStats(report: StatsReport): AlertStats {
  return {
    requests: report.requests,
    limited: report.limited,
    blocked: report.blocked,
    banned: report.banned,
    blockRate: report.blockRate,
    violations: report.violations,
    violationsPerMinute: report.violationsPerMinute,
    instances: report.instances.length,
    topRules: report.topRules.slice(0, ALERT_TOP).map(({ rule, requests, refused }) => ({ rule, requests, refused })),
    topKeys: report.topKeys.slice(0, ALERT_TOP).map(({ key, refusals }) => ({ key, refusals })),
  };
}

/** The alert without its top client keys (`includeKeys: false`): `stats.topKeys` is empty. */
export function withoutKeys(event: AlertEvent): AlertEvent {
  return { ...event, stats: { ...event.stats, topKeys: [] } };
}

/** A Slack message (`{ text, blocks }`): `text` alone says it all, for clients and services that ignore blocks. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly object[];
}

/** The alert as a Slack (or Slack-compatible) incoming-webhook message. */
export function slackMessage(event: AlertEvent): SlackMessage {
  const { stats } = event;
  const headline = `${event.level === 'critical' ? ':rotating_light:' : ':warning:'} *Rampart ${event.level}*: ${METRIC_NAMES[event.alert]} ${figure(event.alert, event.value)} over the last ${duration(event.windowMs)} (threshold ${figure(event.alert, event.threshold)})`;
  const figures = `${stats.requests} requests: ${stats.limited} limited, ${stats.blocked} blocked, ${stats.banned} banned; ${round(stats.violationsPerMinute)} violations per minute; ${stats.instances} instance${stats.instances === 1 ? '' : 's'}.`;
  const lines = [headline, figures];
  if (stats.topRules.length > 0)
    lines.push(`Top rules: ${stats.topRules.map((r) => `\`${escape(r.rule || '(none)')}\` ${r.refused} refused of ${r.requests}`).join(', ')}`);
  if (stats.topKeys.length > 0) lines.push(`Top clients: ${stats.topKeys.map((k) => `\`${escape(k.key)}\` ${k.refusals}`).join(', ')}`);
  const text = lines.join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${escape(event.instance)} at ${new Date(event.atMs).toISOString()} (alert ${event.id})` }] },
    ],
  };
}

/** A metric's value as people read it: the block rate as a percentage. */
function figure(alert: AlertEvent['alert'], value: number): string {
  return alert === 'blockRate' ? `${round(value * 100)} %` : alert === 'ddosScore' ? value.toFixed(2) : String(round(value));
}

const round = (value: number) => (Math.round(value * 10) / 10).toFixed(1);

function duration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1_000} s`;
}

/** Slack's mrkdwn escapes: client keys and rule names are shown, never interpreted (no mentions, no links). */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, "'");
}
