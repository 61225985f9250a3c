/**
 * Outcome-aware rules on GraphQL resolvers, over real HTTP on Apollo and Mercurius: a mutation
 * counts the calls its resolver fails, and gives back the units of those it answers.
 */
import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { Throttle } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { GRAPHQL_DRIVERS, startGraphqlApp, type GraphqlTestApp } from '../graphql/graphql.app.js';
import { gql } from '../graphql/support.js';

@Resolver()
class SessionResolver {
  @Throttle({ name: 'failures', limit: 2, windowMs: 60_000, algorithm: 'fixed-window', countIf: 'failed' })
  @Mutation(() => String)
  async signIn(@Args('password') password: string): Promise<string> {
    await Promise.resolve();
    if (password !== 'secret') throw new Error('Wrong password.');
    return 'welcome';
  }
}

describe.each(GRAPHQL_DRIVERS)('outcome-aware rules on GraphQL resolvers (%s)', (driver) => {
  let t: GraphqlTestApp;

  beforeAll(async () => {
    t = await startGraphqlApp(driver, { clock: new FakeClock(), escalation: false, rules: [{ limit: 1_000, windowMs: 60_000 }] }, {}, [SessionResolver]);
  });
  afterAll(() => t.close());

  const signIn = async (password: string) => {
    const { body } = await gql(t.url, 'mutation ($p: String!) { signIn(password: $p) }', { p: password });
    return body.data?.signIn ?? body.errors?.[0]?.extensions?.code ?? body.errors?.[0]?.message;
  };

  it('counts the calls the resolver fails only', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await signIn('secret'));
    answers.push(await signIn('guess'), await signIn('guess'), await signIn('guess'), await signIn('secret'));
    expect(answers).toEqual(['welcome', 'welcome', 'welcome', 'welcome', expect.any(String), expect.any(String), 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(answers[4]).not.toBe('RATE_LIMITED');
  });
});
