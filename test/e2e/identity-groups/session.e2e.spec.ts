import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sessionIdentity, type SessionIdentityOptions } from '../../../lib/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../../support/http-app.js';
import { expectUnauthorized, groupsModule, statuses as statusesOf } from './groups.app.js';

/** The sessions of the tiny session store below, by the id the `sid` cookie carries. */
const SESSIONS: Record<string, Record<string, unknown>> = {
  alice: { user: 'alice' },
  root: { user: 'root', group: 'admin' },
  acme: { user: 'acme', group: 'partner' },
  passport: { passport: { user: 42 } },
  object: { user: { id: 7 }, group: 'admin' },
  anonymous: { group: 'admin' },
};

/** What express-session puts on `req.session`: the session's values as its own properties, beside its methods. */
class ExpressStyleSession {
  constructor(values: Record<string, unknown>) {
    Object.assign(this, values);
  }
  save(): void {}
}

/** What @fastify/session and @fastify/secure-session put on `request.session`: values behind `get(key)`. */
class FastifyStyleSession {
  constructor(private readonly values: Record<string, unknown>) {}
  get(key: string): unknown {
    return this.values[key];
  }
}

const sessionId = (cookie: string | undefined) => /(?:^|;\s*)sid=([^;]+)/.exec(cookie ?? '')?.[1];

/** Installs the session store: an Express middleware, or a Fastify `onRequest` hook, as the session packages do. */
function installSessions(adapter: AdapterName) {
  return (app: INestApplication) => {
    if (adapter === 'express') {
      app.use((req: { headers: { cookie?: string }; session?: unknown }, _res: unknown, next: () => void) => {
        const values = SESSIONS[sessionId(req.headers.cookie) ?? ''];
        req.session = new ExpressStyleSession(values ?? {});
        next();
      });
      return;
    }
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.decorateRequest('session', null);
    fastify.addHook('onRequest', async (request) => {
      const values = SESSIONS[sessionId(request.headers.cookie) ?? ''];
      (request as unknown as { session: FastifyStyleSession }).session = new FastifyStyleSession(values ?? {});
    });
  };
}

describe.each(ADAPTERS)('sessionIdentity on %s', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());

  const start = async (session: SessionIdentityOptions = {}) => {
    t = await startApp(adapter, groupsModule({ clock: new FakeClock(), ...sessionIdentity(session) }), installSessions(adapter));
  };
  const statuses = (n: number, sid?: string) => statusesOf(t, n, sid ? { Cookie: `sid=${sid}` } : {});

  it("counts each session's user, its group's rule, an admin never; no user: the address, in the default group", async () => {
    await start();
    expect(await statuses(3, 'alice')).toEqual([200, 200, 429]);
    expect(await statuses(5, 'acme')).toEqual([200, 200, 200, 200, 429]);
    expect(await statuses(6, 'root')).toEqual([200, 200, 200, 200, 200, 200]);
    // A group without a user, or a user that is no string or number, is anonymous: never admin.
    expect(await statuses(1, 'anonymous')).toEqual([200]);
    expect(await statuses(1, 'object')).toEqual([200]);
    expect(await statuses(1)).toEqual([429]);
  });

  it('reads a nested user (passport.user), a number as its text', async () => {
    await start({ userKey: 'passport.user' });
    expect(await statuses(3, 'passport')).toEqual([200, 200, 429]);
    expect(await statuses(2)).toEqual([200, 200]);
  });

  it('refuses a session without a user with 401 when one is required', async () => {
    await start({ required: true });
    const res = await t.http().get('/data').set('Cookie', 'sid=anonymous').expect(401);
    expectUnauthorized(res, 'This service needs a signed-in session. Sign in, then try again.');
    await t.http().get('/data').expect(401);
    // Routes without rules check no identity.
    await t.http().get('/free').expect(200);
    expect(await statuses(3, 'alice')).toEqual([200, 200, 429]);
  });
});
