import { HttpStatus, Injectable, type ExecutionContext, type Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { formatAddress, parseBareAddress } from '../core/ip/client-address.js';
import type { TargetRule } from '../engine/target-rules.js';
import * as messages from '../errors/messages.js';
import { RateLimitService } from '../protection/rate-limit.service.js';
import { RouteRulesResolver } from '../route-rules.resolver.js';
import { isBanActive, type Ban, type BanFilter, type BanTarget, type Page } from '../storage/ban-store.interface.js';
import { AdminProblemException } from './admin-problem.js';
import { Rampart } from '../engine/rampart.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { toAccessEntryView, toBanView, toViolationView } from './admin-views.js';
import { adaptiveViews } from './admin-adaptive.js';
import type { CreateAccessEntryBody, ListAccessListQuery, RemoveAccessEntryQuery } from './dto/access-list.dto.js';
import type { CreateBanBody, LiftBanQuery, ListBansQuery } from './dto/ban.dto.js';
import type { ListViolationsQuery } from './dto/violation.dto.js';
import type {
  AdminAccessEntryView,
  AdminAccessList,
  AdminBanPage,
  AdminBanView,
  AdminClientView,
  AdminCounterView,
  AdminLiftResult,
  AdminViolationPage,
} from './dto/views.dto.js';

/** Violations listed with a client's status. */
const LATEST_VIOLATIONS = 20;
/** Store pages read at most by one `active=false` listing before answering (with a cursor to go on). */
const MAX_FILTERED_PAGES = 10;
/** Counters looked up at most for one client (one store read each). */
const MAX_COUNTER_LOOKUPS = 200;

/**
 * What the admin endpoints do, over RateLimitService (which keeps this instance's cache in step).
 * Inputs arrive validated by the DTOs; a cursor a store refuses is a 400.
 */
@Injectable()
export class AdminService {
  private countedRules: readonly TargetRule<ExecutionContext>[] | undefined;
  /** The configuration `countedRules` was gathered under: a reload gathers them again. */
  private countedUnder: unknown;

  constructor(
    private readonly protection: RateLimitService,
    private readonly routeRules: RouteRulesResolver,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly rampart: Rampart<ExecutionContext>,
  ) {}

  async listBans(query: ListBansQuery): Promise<AdminBanPage> {
    const nowMs = this.now();
    const target = query.key ?? query.cidr;
    const filter: BanFilter = {
      ...(query.kind !== undefined ? { kind: query.kind } : {}),
      ...(query.source !== undefined ? { source: query.source } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(query.active === true ? { activeAtMs: nowMs } : {}),
    };
    let cursor = query.cursor;
    let page: Page<Ban>;
    let items: Ban[];
    let pages = 0;
    // The stores filter by "in force" only; ended bans are picked out here, reading on until a page
    // yields some (or MAX_FILTERED_PAGES were read), so a page may hold fewer than `limit` items.
    do {
      const from = cursor;
      page = await this.paged(from, () => this.protection.listBans(filter, { limit: query.limit, ...(from !== undefined ? { cursor: from } : {}) }));
      items = query.active === false ? page.items.filter((ban) => !isBanActive(ban, nowMs)) : [...page.items];
      cursor = page.nextCursor;
    } while (query.active === false && items.length === 0 && cursor !== undefined && ++pages < MAX_FILTERED_PAGES);
    return { items: items.map((ban) => toBanView(ban, nowMs)), ...(cursor !== undefined ? { nextCursor: cursor } : {}) };
  }

  async createBan(body: CreateBanBody, actor: string): Promise<AdminBanView> {
    const target = targetOf(body);
    const ban = await this.protection.ban(target, body.kind, body.kind === 'temporary' ? body.durationMs : undefined, body.reason, actor, {
      force: body.force === true,
    });
    return toBanView(ban, this.now());
  }

  async liftBan(query: LiftBanQuery, actor: string): Promise<AdminLiftResult> {
    const target = targetOf(query);
    const clearHistory = query.clearHistory === true;
    const record = await this.protection.getBan(target);
    if (record === null) throw new AdminProblemException(HttpStatus.NOT_FOUND, messages.adminNoBan(describeTarget(target)));
    if (!isBanActive(record, this.now()) && !clearHistory) {
      throw new AdminProblemException(HttpStatus.NOT_FOUND, messages.adminNoBanInForce(describeTarget(target)));
    }
    const lifted = await this.protection.unban(target, actor, clearHistory);
    return { ban: toBanView(lifted ?? record, this.now()), historyCleared: clearHistory };
  }

  async client(key: string): Promise<AdminClientView> {
    const parsed = parseBareAddress(key);
    const status = await this.protection.status(key, parsed === null ? null : formatAddress(parsed));
    const rules = this.routesCounted().slice(0, MAX_COUNTER_LOOKUPS);
    const [latest, counters, adaptive] = await Promise.all([
      this.protection.listViolations({ key }, { limit: LATEST_VIOLATIONS }),
      this.counters(key, rules),
      adaptiveViews(this.rampart as unknown as Rampart<never>, key, rules),
    ]);
    const nowMs = this.now();
    const { verdict } = status;
    return {
      key: status.key,
      status: verdict.status,
      ...(verdict.status === 'blocked' ? { blockedUntil: new Date(verdict.untilMs).toISOString() } : {}),
      ...(verdict.status === 'banned' || verdict.status === 'blocked' ? { matchedBan: toBanView(verdict.ban, nowMs) } : {}),
      ...(verdict.status === 'allow-listed' || verdict.status === 'deny-listed' ? { matchedEntry: toAccessEntryView(verdict.entry, nowMs) } : {}),
      ban: status.ban ? toBanView(status.ban, nowMs) : null,
      recentViolations: status.recentViolations,
      latestViolations: latest.items.map(toViolationView),
      counters,
      ...(adaptive.length > 0 ? { adaptive } : {}),
    };
  }

  async listViolations(query: ListViolationsQuery): Promise<AdminViolationPage> {
    if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
      throw new AdminProblemException(HttpStatus.BAD_REQUEST, messages.adminFromNotBeforeTo());
    }
    const filter = {
      ...(query.key !== undefined ? { key: query.key } : {}),
      ...(query.rule !== undefined ? { rule: query.rule } : {}),
      ...(query.from !== undefined ? { fromMs: query.from } : {}),
      ...(query.to !== undefined ? { toMs: query.to } : {}),
    };
    const { cursor } = query;
    const page = await this.paged(cursor, () => this.protection.listViolations(filter, { limit: query.limit, ...(cursor !== undefined ? { cursor } : {}) }));
    return { items: page.items.map(toViolationView), ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  }

  async listAccessList(query: ListAccessListQuery): Promise<AdminAccessList> {
    const entries = await this.protection.listAccessEntries(query.kind);
    const nowMs = this.now();
    return { items: entries.map((entry) => toAccessEntryView(entry, nowMs)) };
  }

  async addAccessEntry(body: CreateAccessEntryBody, actor: string): Promise<AdminAccessEntryView> {
    const nowMs = this.now();
    if (body.expiresAtMs !== undefined && body.expiresAtMs <= nowMs) {
      throw new AdminProblemException(HttpStatus.BAD_REQUEST, messages.adminExpiryNotInFuture(new Date(nowMs).toISOString()));
    }
    const entry = await this.protection.putAccessEntry(body.kind, body.cidr, actor, {
      ...(body.note !== undefined ? { note: body.note } : {}),
      ...(body.expiresAtMs !== undefined ? { expiresAtMs: body.expiresAtMs } : {}),
      force: body.force === true,
    });
    return toAccessEntryView(entry, this.now());
  }

  async removeAccessEntry(query: RemoveAccessEntryQuery): Promise<void> {
    const removed = await this.protection.removeAccessEntry(query.kind, query.cidr);
    if (!removed) throw new AdminProblemException(HttpStatus.NOT_FOUND, messages.adminNoAccessEntry(query.kind, query.cidr));
  }

  private now(): number {
    return this.protection.now();
  }

  /**
   * Runs a store listing; when a cursor was given and the store refuses it (a TypeError or
   * RangeError: the filters are already valid), answers 400 instead of 500.
   */
  private async paged<T>(cursor: string | undefined, list: () => Promise<Page<T>>): Promise<Page<T>> {
    try {
      return await list();
    } catch (error) {
      if (cursor !== undefined && (error instanceof TypeError || error instanceof RangeError)) {
        throw new AdminProblemException(HttpStatus.BAD_REQUEST, messages.adminBadCursor());
      }
      throw error;
    }
  }

  /** Live counters of `key` under every rule of every route, read without counting. */
  private async counters(key: string, rules: readonly TargetRule<ExecutionContext>[]): Promise<AdminCounterView[]> {
    const counted = await this.protection.counters(key, rules);
    return counted.map(({ rule: { rule, countsPer }, result }) => ({
      rule: rule.name,
      route: countsPer,
      limit: result.limit,
      // `get` answers for one more request of cost 1: what is left now is one more, when it would pass.
      remaining: result.allowed ? result.remaining + 1 : 0,
      resetAt: new Date(result.resetAtMs).toISOString(),
      ...(result.blockedUntilMs !== undefined ? { blockedUntil: new Date(result.blockedUntilMs).toISOString() } : {}),
    }));
  }

  /** Every (rule, route or scope) the guard counts, once: the handlers' and the route entries'; gathered again after a reload. */
  private routesCounted(): readonly TargetRule<ExecutionContext>[] {
    const config = this.rampart.config as RateLimitConfig;
    if (this.countedRules && this.countedUnder === config) return this.countedRules;
    const byPrefix = new Map<string, TargetRule<ExecutionContext>>();
    for (const targetRule of config.routes.targetRules()) if (!byPrefix.has(targetRule.keyPrefix)) byPrefix.set(targetRule.keyPrefix, targetRule);
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, (...args: unknown[]) => unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method]!;
        if (this.reflector.get<unknown>(PATH_METADATA, handler) === undefined) continue;
        const route = this.routeRules.resolve(handler, metatype as Type);
        for (const targetRule of route.rules) {
          if (!byPrefix.has(targetRule.keyPrefix)) byPrefix.set(targetRule.keyPrefix, targetRule);
        }
      }
    }
    this.countedRules = [...byPrefix.values()];
    this.countedUnder = config;
    return this.countedRules;
  }
}

function targetOf(input: { key?: string; cidr?: string }): BanTarget {
  return input.cidr !== undefined ? { type: 'cidr', cidr: input.cidr } : { type: 'key', key: input.key! };
}

function describeTarget(target: BanTarget): string {
  return target.type === 'key' ? `key ${JSON.stringify(target.key)}` : `range ${target.cidr}`;
}
