import { Injectable, Logger, type CanActivate, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { setHeader } from '../http-exchange.js';
import { DEFAULT_IPV6_SUBNET_PREFIX, normalizeIp } from './ip.js';
import type {
  Resolvable,
  ThrottlerGenerateKeyFunction,
  ThrottlerGetTrackerFunction,
  ThrottlerModuleOptions,
  ThrottlerOptions,
} from './throttler-module-options.interface.js';
import type { ThrottlerStorage } from './throttler-storage.interface.js';
import {
  DEFAULT_THROTTLER_NAME,
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from './throttler.constants.js';
import { InjectThrottlerOptions, InjectThrottlerStorage } from './throttler.decorator.js';
import { ThrottlerException, throttlerMessage } from './throttler.exception.js';
import type { ThrottlerLimitDetail, ThrottlerRequest } from './throttler.guard.interface.js';

type CommonOptions = Pick<ThrottlerOptions, 'skipIf' | 'ignoreUserAgents' | 'getTracker' | 'generateKey' | 'setHeaders'>;

/** Header suffix of a throttler: none for `default`, `-<name>` otherwise. */
const headerSuffix = (name: string): string => (name === DEFAULT_THROTTLER_NAME ? '' : `-${name}`);

/**
 * Throttler order: by ascending numeric `ttl`; a throttler whose `ttl` is a function is moved
 * after the one it is compared with (the comparison `@nestjs/throttler` applies, so that both
 * check, and answer for, throttlers in the same order).
 */
function byTtl(a: ThrottlerOptions, b: ThrottlerOptions): number {
  if (typeof a.ttl === 'function') return 1;
  if (typeof b.ttl === 'function') return 0;
  return a.ttl - b.ttl;
}

/**
 * Counts each request against every configured throttler and refuses it with a 429
 * `ThrottlerException` when one of them is exceeded.
 *
 * Subclass it to adapt it: `getTracker` (who the client is), `generateKey`, `shouldSkip`,
 * `getRequestResponse` (WebSocket or GraphQL contexts), `handleRequest`, `getErrorMessage` and
 * `throwThrottlingException`.
 */
@Injectable()
export class ThrottlerGuard implements CanActivate, OnModuleInit {
  protected headerPrefix = 'X-RateLimit';
  protected logger = new Logger(ThrottlerGuard.name);
  protected errorMessage = throttlerMessage;
  protected throttlers!: Array<ThrottlerOptions>;
  protected commonOptions!: CommonOptions;
  protected ipv6SubnetPrefix = DEFAULT_IPV6_SUBNET_PREFIX;

  constructor(
    @InjectThrottlerOptions() protected readonly options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() protected readonly storageService: ThrottlerStorage,
    protected readonly reflector: Reflector,
  ) {}

  /** Reads the options: the throttlers in checking order and the options they share. */
  async onModuleInit(): Promise<void> {
    const options = this.options;
    const declared = Array.isArray(options) ? options : options.throttlers;
    this.throttlers = [...declared].sort(byTtl).map((throttler) => ({ ...throttler, name: throttler.name ?? DEFAULT_THROTTLER_NAME }));
    if (this.throttlers.length === 0) {
      this.logger.warn(
        'ThrottlerModule has no throttler configured: no request will be limited. ' +
          'Give forRoot() (or the forRootAsync() factory) at least one { ttl, limit }.',
      );
    }
    if (Array.isArray(options)) {
      this.commonOptions = {};
    } else {
      const { skipIf, ignoreUserAgents, getTracker, generateKey, setHeaders } = options;
      this.commonOptions = { skipIf, ignoreUserAgents, getTracker, generateKey, setHeaders };
      this.ipv6SubnetPrefix = options.ipv6SubnetPrefix ?? DEFAULT_IPV6_SUBNET_PREFIX;
    }
    this.commonOptions.getTracker ??= this.getTracker.bind(this);
    this.commonOptions.generateKey ??= this.generateKey.bind(this);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // A guard built outside Nest's lifecycle (e.g. with `new`) reads its options on first use.
    if (this.throttlers === undefined) await this.onModuleInit();
    if (await this.shouldSkip(context)) return true;

    const targets = [context.getHandler(), context.getClass()];
    const override = <T>(metadataKey: string, name: string): T | undefined => this.reflector.getAllAndOverride<T | undefined>(metadataKey + name, targets);

    let allowed = true;
    for (const throttler of this.throttlers) {
      const name = throttler.name!;
      const skipIf = throttler.skipIf || this.commonOptions.skipIf;
      if (override<boolean>(THROTTLER_SKIP, name) || skipIf?.(context)) continue;

      const limit = await this.numberOf(context, override(THROTTLER_LIMIT, name) ?? throttler.limit, 'limit', name);
      const ttl = await this.numberOf(context, override(THROTTLER_TTL, name) ?? throttler.ttl, 'ttl', name);
      const blockDuration = await this.numberOf(context, override(THROTTLER_BLOCK_DURATION, name) ?? throttler.blockDuration ?? ttl, 'blockDuration', name);
      const getTracker = override<ThrottlerGetTrackerFunction>(THROTTLER_TRACKER, name) || throttler.getTracker || this.commonOptions.getTracker!;
      const generateKey = override<ThrottlerGenerateKeyFunction>(THROTTLER_KEY_GENERATOR, name) || throttler.generateKey || this.commonOptions.generateKey!;
      const passed = await this.handleRequest({ context, limit, ttl, throttler, blockDuration, getTracker, generateKey });
      allowed &&= passed;
    }
    return allowed;
  }

  /** Return true to let the request through every throttler without counting it. */
  protected async shouldSkip(_context: ExecutionContext): Promise<boolean> {
    return false;
  }

  /** Counts the request against one throttler; sets the headers; throws when it is refused. */
  protected async handleRequest(requestProps: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration, getTracker, generateKey } = requestProps;
    const { req, res } = this.getRequestResponse(context);
    const name = throttler.name!;

    const ignoreUserAgents = throttler.ignoreUserAgents ?? this.commonOptions.ignoreUserAgents;
    if (Array.isArray(ignoreUserAgents) && ignoreUserAgents.some((pattern) => pattern.test(req.headers['user-agent']))) {
      return true;
    }

    const tracker = await getTracker(req, context);
    const key = generateKey(context, tracker, name);
    const record = await this.storageService.increment(key, ttl, limit, blockDuration, name);
    const sendHeaders = throttler.setHeaders ?? this.commonOptions.setHeaders ?? true;
    const suffix = headerSuffix(name);

    if (record.isBlocked) {
      if (sendHeaders) this.setResponseHeader(res, `Retry-After${suffix}`, record.timeToBlockExpire);
      await this.throwThrottlingException(context, { limit, ttl, key, tracker, ...pick(record) });
    }
    if (sendHeaders) {
      this.setResponseHeader(res, `${this.headerPrefix}-Limit${suffix}`, limit);
      this.setResponseHeader(res, `${this.headerPrefix}-Remaining${suffix}`, Math.max(0, limit - record.totalHits));
      this.setResponseHeader(res, `${this.headerPrefix}-Reset${suffix}`, record.timeToExpire);
    }
    return true;
  }

  /** The client's identity: its IP (`req.ip`), IPv6 grouped by `ipv6SubnetPrefix` bits. */
  protected async getTracker(req: Record<string, any>): Promise<string> {
    return normalizeIp(req.ip, this.ipv6SubnetPrefix);
  }

  /** Sets a header on an Express response, a Fastify reply or a Node response. */
  protected setResponseHeader(res: Record<string, any>, name: string, value: string | number): void {
    setHeader(res, name, value);
  }

  /** The request and response of an HTTP context; override it for WebSocket or GraphQL. */
  protected getRequestResponse(context: ExecutionContext): { req: Record<string, any>; res: Record<string, any> } {
    const http = context.switchToHttp();
    return { req: http.getRequest(), res: http.getResponse() };
  }

  /** The storage key: a SHA-256 (hex) of `<Controller>-<handler>-<throttler>-<tracker>`. */
  protected generateKey(context: ExecutionContext, suffix: string, name: string): string {
    const route = `${context.getClass().name}-${context.getHandler().name}-${name}`;
    return createHash('sha256').update(`${route}-${suffix}`).digest('hex');
  }

  /** Refuses the request: throws a `ThrottlerException` with `getErrorMessage`'s message. */
  protected async throwThrottlingException(context: ExecutionContext, throttlerLimitDetail: ThrottlerLimitDetail): Promise<void> {
    throw new ThrottlerException(await this.getErrorMessage(context, throttlerLimitDetail));
  }

  /** The message of a refusal: the module's `errorMessage` (text or function), else the default. */
  protected async getErrorMessage(context: ExecutionContext, throttlerLimitDetail: ThrottlerLimitDetail): Promise<string> {
    if (Array.isArray(this.options) || !this.options.errorMessage) return this.errorMessage;
    const { errorMessage } = this.options;
    return typeof errorMessage === 'function' ? errorMessage(context, throttlerLimitDetail) : errorMessage;
  }

  /** Resolves a `Resolvable<number>` (numeric strings accepted) or throws a configuration error. */
  private async numberOf(context: ExecutionContext, value: Resolvable<number>, option: string, name: string): Promise<number> {
    const resolved: unknown = typeof value === 'function' ? await value(context) : value;
    const n = typeof resolved === 'string' && resolved.trim() !== '' ? Number(resolved) : resolved;
    if (typeof n !== 'number' || Number.isNaN(n)) {
      throw new Error(`Throttler '${name}': ${option} must be a number, got ${JSON.stringify(resolved)}.`);
    }
    return n;
  }
}

/** The storage fields of a record, without anything else a custom storage may add. */
function pick(record: { totalHits: number; timeToExpire: number; isBlocked: boolean; timeToBlockExpire: number }) {
  const { totalHits, timeToExpire, isBlocked, timeToBlockExpire } = record;
  return { totalHits, timeToExpire, isBlocked, timeToBlockExpire };
}
