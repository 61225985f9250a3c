/**
 * The admin API behind the app's own guard, with Nest's documented RolesGuard
 * (https://docs.nestjs.com/guards#putting-it-all-together), which answers true to any route without
 * role metadata. A guard's `true` alone never opens the admin API: the roles are put on the admin
 * routes (`routeDecorators`), or `authorize` gives the positive answer; `guard` alone is refused at
 * startup.
 */
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { RateLimitConfigurationError, RateLimitModule, type RampartLogger } from '../../lib/index.js';
import type { AdminRequest, RateLimitAdminOptions } from '../../lib/admin/admin-options.interface.js';
import { ADAPTERS } from '../support/http-app.js';
import { ADMIN_KEY, startAdminApp, type AdminTestApp } from './admin.app.js';

// ---- Nest's documented roles pattern, as an app copies it -------------------------------------

export const Roles = Reflector.createDecorator<string[]>();

function matchRoles(roles: string[], userRoles: string[]): boolean {
  return roles.some((role) => userRoles.includes(role));
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.get(Roles, context.getHandler());
    if (!roles) {
      return true;
    }
    const request = context.switchToHttp().getRequest();
    const user = request.user;
    return matchRoles(roles, user.roles);
  }
}

/** The app's authentication, standing in for a JWT guard: `x-user: <id>:<role>,<role>` sets request.user; anonymous requests pass without one. */
@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: { id: string; roles: string[] } }>();
    const session = request.headers['x-user'];
    if (session) {
      const [id, roles = ''] = session.split(':');
      request.user = { id: id!, roles: roles.split(',').filter(Boolean) };
    }
    return true;
  }
}

const isAdmin = (request: AdminRequest): boolean => request.user?.roles?.includes('admin') === true;

/** The body of the report: deny every client. */
const DENY_ALL = { kind: 'deny', cidr: '0.0.0.0/0' };
const DENY_ONE = { kind: 'deny', cidr: '198.51.100.0/24' };
const PROBLEM = /^application\/problem\+json/;

const ACCESS: [string, RateLimitAdminOptions][] = [
  ['roles on the admin routes (routeDecorators)', { guard: RolesGuard, routeDecorators: [Roles(['admin'])] }],
  ['authorize after the guard', { guard: RolesGuard, authorize: isAdmin }],
  ['authorize alone, after the global authentication', { authorize: isAdmin }],
];

describe.each(ADAPTERS)("admin API behind the app's RolesGuard on %s", (adapter) => {
  let t: AdminTestApp;
  let warnings: string[];
  afterEach(() => t.close());

  const start = async (admin: RateLimitAdminOptions) => {
    warnings = [];
    const logger: RampartLogger = { log: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined };
    t = await startAdminApp(adapter, { admin, options: { adminApiKey: undefined, logger }, providers: [{ provide: APP_GUARD, useClass: SessionGuard }] });
  };
  const post = (body: object, user?: string) => {
    const req = t.http().post('/rate-limit/access-list');
    return (user ? req.set('x-user', user) : req).send(body);
  };

  it.each(ACCESS)('%s: anonymous and non-admin requests get 403 and change nothing; an admin gets through', async (_name, admin) => {
    await start(admin);
    const anonymous = await post(DENY_ALL).expect(403).expect('content-type', PROBLEM);
    expect(anonymous.body).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
    await post({ ...DENY_ALL, force: true }).expect(403);
    await post(DENY_ALL, 'bob:editor').expect(403);
    await post(DENY_ALL, 'carol').expect(403);
    await t.http().get('/rate-limit/bans').expect(403);
    expect(await t.storage.accessList.list()).toEqual([]);
    await t.http().get('/ping').set('X-Forwarded-For', '192.0.2.1').expect(200);

    const created = await post(DENY_ONE, 'alice:editor,admin').expect(201);
    expect(created.body).toMatchObject({ kind: 'deny', cidr: '198.51.100.0/24', createdBy: 'alice' });
    await t.http().get('/rate-limit/bans').set('x-user', 'alice:admin').expect(200);
    await t.http().get('/ping').set('X-Forwarded-For', '198.51.100.9').expect(403);
    await t.http().get('/ping').set('X-Forwarded-For', '192.0.2.1').expect(200);
  });

  it('logs a guard that throws on an anonymous request (RolesGuard reads user.roles) and answers 403, not 500', async () => {
    await start({ guard: RolesGuard, routeDecorators: [Roles(['admin'])] });
    await post(DENY_ONE).expect(403);
    expect(warnings).toEqual([expect.stringMatching(/^admin\.guard threw on an admin request \(.*roles.*\); answered 403\./)]);
  });
});

describe("admin API startup with the app's guard", () => {
  const compile = (admin: RateLimitAdminOptions, adminApiKey?: string) =>
    Test.createTestingModule({ imports: [RateLimitModule.forRoot({ admin, ...(adminApiKey ? { adminApiKey } : {}) })] }).compile();

  it('refuses a guard alone, saying what to add', () => {
    expect(() => RateLimitModule.forRoot({ admin: { guard: RolesGuard } })).toThrow(RateLimitConfigurationError);
    expect(() => RateLimitModule.forRoot({ admin: { guard: RolesGuard, path: 'ops' } })).toThrow(
      "admin.guard alone cannot tell an operator from anyone else at /ops: a guard such as Nest's RolesGuard answers true to a route without role metadata, anonymous requests included. " +
        "Add admin.routeDecorators for the guard to read on every admin route (e.g. routeDecorators: [Roles(['admin'])]), " +
        "or admin.authorize returning true only for an operator (e.g. authorize: (request) => request.user?.roles?.includes('admin') === true).",
    );
  });

  it('refuses an API key together with the app access control: one of them would silently decide', async () => {
    await expect(compile({ guard: RolesGuard, authorize: isAdmin }, ADMIN_KEY)).rejects.toThrow(
      "Both an admin API key and the app's access control (admin.guard or admin.authorize) are set for /rate-limit",
    );
    await expect(compile({ authorize: isAdmin }, ADMIN_KEY)).rejects.toThrow(RateLimitConfigurationError);
  });

  it('refuses routeDecorators without a guard to read them, and malformed settings', () => {
    expect(() => RateLimitModule.forRoot({ admin: { routeDecorators: [Roles(['admin'])] }, adminApiKey: ADMIN_KEY })).toThrow(
      'admin.routeDecorators are for admin.guard to read, and there is no admin.guard.',
    );
    expect(() => RateLimitModule.forRoot({ admin: { authorize: 'admin' as never } })).toThrow('admin.authorize must be a function');
    expect(() => RateLimitModule.forRoot({ admin: { guard: RolesGuard, routeDecorators: 'admin' as never } })).toThrow(
      'admin.routeDecorators must be an array of method decorators',
    );
  });
});
