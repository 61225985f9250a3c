import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import * as messages from '../errors/messages.js';
import { requestHeaders, setHeader } from '../http-exchange.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from '../rate-limit.constants.js';
import { ADMIN_ACTOR, ADMIN_SETTINGS } from './admin.constants.js';
import { AdminProblemException } from './admin-problem.js';
import type { AdminRequest } from './admin-options.interface.js';
import { sha256, type AdminSettings } from './admin-settings.js';

/** `Bearer <token>`, the scheme case-insensitive (RFC 7235), one or more spaces before the token. */
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Admits an admin request, and records who it acts as (`api-key:<4 hex digits of the key's
 * SHA-256>`, or the app's `request.user.id`, or `admin`).
 *
 * With API keys: `Authorization: Bearer <key>`, compared with every configured key through their
 * SHA-256 digests and `timingSafeEqual`, so neither the key's content nor its length shows in the
 * timing. 401 with `WWW-Authenticate: Bearer` otherwise.
 *
 * With the app's access control: `admin.guard` must admit the request, then a positive answer is
 * needed that a permissive guard cannot give by default: `admin.authorize` returning true, or
 * without it an authenticated `request.user` (the guard then reads `admin.routeDecorators`). 403
 * otherwise. An error the app's code throws is logged and answered 403 (an HttpException, such as
 * its own 401, passes as it is). Every admin response carries `Cache-Control: no-store`, errors too.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate, OnModuleInit {
  private delegate: CanActivate | undefined;

  constructor(
    @Inject(ADMIN_SETTINGS) private readonly settings: AdminSettings,
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Resolves the app's guard at startup: its registered instance when it is a provider anywhere, else one made here. */
  async onModuleInit(): Promise<void> {
    const type = this.settings.guard;
    if (!type) return;
    try {
      this.delegate = this.moduleRef.get(type, { strict: false });
    } catch {
      this.delegate = await this.moduleRef.create(type);
    }
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Record<string | symbol, unknown>>();
    const response = http.getResponse<unknown>();
    setHeader(response, 'Cache-Control', 'no-store');

    if (this.settings.keyDigests.length === 0) return this.admitByApp(context, request);

    const header = requestHeaders(request)['authorization'];
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) {
      setHeader(response, 'WWW-Authenticate', 'Bearer realm="rate-limit-admin"');
      throw new AdminProblemException(HttpStatus.UNAUTHORIZED, messages.adminMissingCredentials());
    }
    const digest = sha256(match[1]!);
    // Every key is compared, so the time taken does not tell which one (if any) matched.
    let matched = false;
    for (const candidate of this.settings.keyDigests) matched = timingSafeEqual(digest, candidate) || matched;
    if (!matched) {
      setHeader(response, 'WWW-Authenticate', 'Bearer realm="rate-limit-admin", error="invalid_token"');
      throw new AdminProblemException(HttpStatus.UNAUTHORIZED, messages.adminInvalidCredentials());
    }
    request[ADMIN_ACTOR] = `api-key:${digest.toString('hex').slice(0, 4)}`;
    return true;
  }

  /** The app's access control: its guard, then `authorize` (or, without it, an authenticated `request.user`). */
  private async admitByApp(context: ExecutionContext, request: Record<string | symbol, unknown>): Promise<true> {
    const { guard, authorize } = this.settings;
    // Resolved at startup; a guard made by hand (without the module's init) has none and admits nobody.
    const admitted = guard === undefined || Boolean(await this.ask('admin.guard', () => (this.delegate ? this.delegate.canActivate(context) : false)));
    const operator =
      admitted &&
      (authorize
        ? (await this.ask('admin.authorize', () => authorize(request as unknown as AdminRequest, context))) === true
        : typeof request['user'] === 'object' && request['user'] !== null);
    if (!operator) throw new AdminProblemException(HttpStatus.FORBIDDEN, messages.adminGuardDenied());
    request[ADMIN_ACTOR] = actorOfUser(request['user']);
    return true;
  }

  /** What the app's code answers; an HttpException it throws passes as it is, any other error is a refusal, logged. */
  private async ask(what: string, question: () => boolean | Promise<boolean> | Observable<boolean>): Promise<unknown> {
    try {
      const verdict = question();
      return isObservable(verdict) ? await lastValueFrom(verdict) : await verdict;
    } catch (error) {
      if (error instanceof HttpException) throw error;
      this.config.logger.warn(messages.adminAccessCheckFailed(what, error));
      return false;
    }
  }
}

function actorOfUser(user: unknown): string {
  if (typeof user !== 'object' || user === null) return 'admin';
  const id = (user as { id?: unknown }).id;
  if ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id))) return String(id).slice(0, 128);
  return 'admin';
}
