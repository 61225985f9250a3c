import { HttpStatus, Inject, Injectable, Logger, type CanActivate, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import { isObservable, lastValueFrom } from 'rxjs';
import * as messages from '../errors/messages.js';
import { requestHeaders, setHeader } from '../http-exchange.js';
import { ADMIN_ACTOR, ADMIN_SETTINGS } from './admin.constants.js';
import { AdminProblemException } from './admin-problem.js';
import { sha256, type AdminSettings } from './admin-settings.js';

/** `Bearer <token>`, the scheme case-insensitive (RFC 7235), one or more spaces before the token. */
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Admits an admin request, and records who it acts as (`api-key:<4 hex digits of the key's
 * SHA-256>`, or the app guard's `request.user.id`, or `admin`).
 *
 * With API keys: `Authorization: Bearer <key>`, compared with every configured key through their
 * SHA-256 digests and `timingSafeEqual`, so neither the key's content nor its length shows in the
 * timing. 401 with `WWW-Authenticate: Bearer` otherwise. With `admin.guard`, that guard decides
 * (403 when it answers false). Every admin response carries `Cache-Control: no-store`, errors too.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('RateLimit');
  private delegate: CanActivate | undefined;

  constructor(
    @Inject(ADMIN_SETTINGS) private readonly settings: AdminSettings,
    private readonly moduleRef: ModuleRef,
  ) {
    if (settings.guard && settings.keyDigests.length > 0) this.logger.warn(messages.adminGuardOverridesKey(settings.path));
  }

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

    if (this.settings.guard) {
      // Resolved at startup; a guard made by hand (without the module's init) has none and admits nobody.
      const verdict = this.delegate ? this.delegate.canActivate(context) : false;
      const allowed = isObservable(verdict) ? await lastValueFrom(verdict) : await verdict;
      if (!allowed) throw new AdminProblemException(HttpStatus.FORBIDDEN, messages.adminGuardDenied());
      request[ADMIN_ACTOR] = actorOfUser(request['user']);
      return true;
    }

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
}

function actorOfUser(user: unknown): string {
  if (typeof user !== 'object' || user === null) return 'admin';
  const id = (user as { id?: unknown }).id;
  if ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id))) return String(id).slice(0, 128);
  return 'admin';
}
