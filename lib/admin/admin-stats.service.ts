import { HttpStatus, Injectable } from '@nestjs/common';
import { Rampart } from '../engine/rampart.js';
import * as messages from '../errors/messages.js';
import { fleetStats } from '../observability/fleet.js';
import type { StatsReport } from '../observability/fleet-stats.js';
import { RateLimitService } from '../protection/rate-limit.service.js';
import type { Violation } from '../storage/violation-store.interface.js';
import { AdminProblemException } from './admin-problem.js';
import { toViolationView } from './admin-views.js';
import type { StatsQuery } from './dto/stats.dto.js';
import type { AdminStatsView } from './dto/stats-views.dto.js';

/** Violations listed with the figures. */
const RECENT_VIOLATIONS = 20;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What `GET /stats` answers: the figures of a window summed over every instance's summary (this
 * instance's live, the others' as last written to `storage.stats`), or one instance's, with the
 * newest violations of the window.
 */
@Injectable()
export class AdminStatsService {
  constructor(
    private readonly rampart: Rampart,
    private readonly protection: RateLimitService,
  ) {}

  async stats(query: StatsQuery): Promise<AdminStatsView> {
    const recorder = this.rampart.stats;
    if (recorder === undefined) throw new AdminProblemException(HttpStatus.NOT_FOUND, messages.adminStatsOff());
    const { retentionMs } = recorder.config;
    if (query.windowMs > retentionMs) {
      const problem = messages.adminWindowTooLong(query.windowMs, retentionMs);
      throw new AdminProblemException(HttpStatus.BAD_REQUEST, messages.adminInvalidRequest([problem]), [problem]);
    }
    const store = this.rampart.config.storage.stats;
    const report = await fleetStats(recorder, store, this.protection.now(), query.windowMs, query.instance);
    if (query.instance !== undefined && report.instances.length === 0) {
      throw new AdminProblemException(HttpStatus.NOT_FOUND, messages.adminUnknownInstance(query.instance));
    }
    const recent = await this.protection.listViolations({ fromMs: report.fromMs }, { limit: RECENT_VIOLATIONS });
    return toStatsView(report, store !== undefined, query.instance, recent.items);
  }
}

function toStatsView(report: StatsReport, fleet: boolean, instance: string | undefined, recent: readonly Violation[]): AdminStatsView {
  const { windowMs, fromMs, toMs, instances, shadow, topRules, topKeys, ...figures } = report;
  return {
    fleet,
    ...(instance !== undefined ? { instance } : {}),
    windowMs,
    from: iso(fromMs),
    to: iso(toMs),
    ...figures,
    shadow: { ...shadow },
    topRules: topRules.map((rule) => ({ ...rule })),
    topKeys: topKeys.map((key) => ({ ...key })),
    instances: instances.map(({ startedAtMs, reportedAtMs, ...rest }) => ({ ...rest, startedAt: iso(startedAtMs), reportedAt: iso(reportedAtMs) })),
    recentViolations: recent.map(toViolationView),
  };
}
