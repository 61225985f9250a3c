/**
 * A login that answers a failure with a redirect (302) is told apart by what its handler left on
 * the request, which a countIf function reads from the outcome's context: its status alone would
 * give every failure back. Both adapters.
 */
import { Body, Controller, Post, Redirect, Req, type ExecutionContext } from '@nestjs/common';
import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitModule, Throttle, type RequestOutcome } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';

type LoginRequest = { loginFailed?: boolean };

/** Counts an HTTP error, and a login its handler marked failed whatever its status. */
const failedLogin = ({ status, context }: RequestOutcome<ExecutionContext>) =>
  (status ?? 0) >= 400 || context?.switchToHttp().getRequest<LoginRequest>().loginFailed === true;

@Controller()
class FormLoginController {
  @Throttle({ name: 'form-failures', limit: 2, windowMs: 60_000, algorithm: 'fixed-window', countIf: failedLogin })
  @Post('login')
  @Redirect()
  login(@Body() body: { password?: string }, @Req() request: LoginRequest) {
    if (body.password === 'right') return { url: '/home', statusCode: 302 };
    request.loginFailed = true;
    return { url: '/login?error=1', statusCode: 302 };
  }
}

describe.each(ADAPTERS)('a login that redirects on failure (%s)', (adapter) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp(adapter, { imports: [RateLimitModule.forRoot({ clock: new FakeClock(), escalation: false })], controllers: [FormLoginController] });
  });
  afterAll(() => t.close());

  const login = async (password: string) => {
    const res = await t.http().post('/login').send({ password });
    await t.app.get(Rampart).outcomes.drain();
    return [res.status, res.headers.location as string | undefined] as const;
  };

  it('counts the failures its handler marked, and gives successes back', async () => {
    for (let i = 0; i < 3; i++) expect(await login('right')).toEqual([302, '/home']);
    expect(await login('wrong')).toEqual([302, '/login?error=1']);
    expect(await login('wrong')).toEqual([302, '/login?error=1']);
    expect((await login('right'))[0]).toBe(429);
  });
});
