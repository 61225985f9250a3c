import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type GenerateKeyPairResult, type JWTPayload } from 'jose';
import { RateLimitService } from '../../../lib/index.js';
import { jwtIdentity, MAX_TOKEN_LENGTH, type JwtIdentityOptions } from '../../../lib/jwt/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { FORGED_SECRET, bearer, expectUnauthorized, groupsModule, SECRET, statuses as statusesOf, token, unsignedToken } from './groups.app.js';

const HS256: JwtIdentityOptions = { secret: SECRET, algorithms: ['HS256'] };

/** Key pairs, made once for both adapters (an RSA key takes a while). */
let rsa: GenerateKeyPairResult;
let ec: GenerateKeyPairResult;
let stranger: GenerateKeyPairResult;
beforeAll(async () => {
  [rsa, ec, stranger] = await Promise.all([generateKeyPair('RS256'), generateKeyPair('ES256'), generateKeyPair('ES256')]);
});

describe.each(ADAPTERS)('jwtIdentity on %s', (adapter) => {
  let t: TestApp;
  let clock: FakeClock;
  afterEach(() => t.close());

  const start = async (jwt: Partial<JwtIdentityOptions> = {}, options = {}) => {
    clock = new FakeClock();
    t = await startApp(adapter, groupsModule({ clock, ...jwtIdentity({ ...HS256, clock, ...jwt } as JwtIdentityOptions), ...options }));
  };
  const get = (headers: Record<string, string> = {}) => t.http().get('/data').set(headers);
  const statuses = (n: number, headers: Record<string, string> = {}) => statusesOf(t, n, headers);

  describe('HS256, groups from the claim', () => {
    beforeEach(() => start());

    it('counts each user apart, partners under their own rule, admins never; clients without a token by address', async () => {
      const alice = bearer(await token(clock, { sub: 'alice' }));
      const bob = bearer(await token(clock, { sub: 'bob' }));
      const partner = bearer(await token(clock, { sub: 'acme', group: 'partner' }));
      const admin = bearer(await token(clock, { sub: 'root', group: 'admin' }));
      expect(await statuses(3, alice)).toEqual([200, 200, 429]);
      expect(await statuses(3, bob)).toEqual([200, 200, 429]);
      expect(await statuses(5, partner)).toEqual([200, 200, 200, 200, 429]);
      expect(await statuses(8, admin)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
      expect(await statuses(3)).toEqual([200, 200, 429]);
      const refused = await get(alice).expect(429);
      expect(refused.body).toMatchObject({ rule: 'default', limit: 2 });
    });

    it('refuses a forged token claiming admin with 401, never unlimited, never counted', async () => {
      const forged = bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET));
      for (let i = 0; i < 4; i++) {
        const res = await get(forged).expect(401);
        expectUnauthorized(res, 'The bearer token is invalid or has expired. Sign in again to get a new one.', 'Bearer error="invalid_token"');
      }
      // Nothing of it was counted: neither the claimed user nor the address.
      expect(await statuses(2, bearer(await token(clock, { sub: 'root' })))).toEqual([200, 200]);
      expect(await statuses(2)).toEqual([200, 200]);
    });

    it('refuses an unsigned token (alg: none), an expired one, garbage and a huge header; another scheme is anonymous', async () => {
      await get(bearer(unsignedToken({ sub: 'root', group: 'admin' }))).expect(401);
      const soon = bearer(await token(clock, { sub: 'carol' }, undefined, 'HS256', 60));
      await get(soon).expect(200);
      clock.advance(61_000);
      await get(soon).expect(401);
      for (const header of ['Bearer not.a.jwt', 'Bearer', 'Bearer a.b', 'eyJhbGciOiJIUzI1NiJ9', '!!!', `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`]) {
        await get({ Authorization: header }).expect(401);
      }
      // A validly signed token, but of 16 000 characters: refused unread.
      await get(bearer(await token(clock, { sub: 'dave', group: 'admin', pad: 'x'.repeat(12_000) }))).expect(401);
      // A Basic credential is no bearer token: an anonymous client, counted by its address.
      expect(await statuses(3, { Authorization: 'Basic dXNlcjpwYXNz' })).toEqual([200, 200, 429]);
    });

    it("takes a group claim's first string from a list", async () => {
      await t.close();
      await start({ groupClaim: 'roles' });
      const partner = bearer(await token(clock, { sub: 'acme', roles: [7, 'partner', 'admin'] }));
      expect(await statuses(5, partner)).toEqual([200, 200, 200, 200, 429]);
    });
  });

  it("with onInvalid: 'anonymous', counts a forged admin token by its address in the default group", async () => {
    await start({ onInvalid: 'anonymous' });
    const forged = bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET));
    expect(await statuses(2, forged)).toEqual([200, 200]);
    // The same anonymous pool as a client without a token, from the same address.
    expect(await statuses(1)).toEqual([429]);
    expect(await statuses(1, bearer(unsignedToken({ sub: 'root', group: 'admin' })))).toEqual([429]);
    // The claimed user is untouched.
    expect(await statuses(2, bearer(await token(clock, { sub: 'root' })))).toEqual([200, 200]);
  });

  it("refuses a token for another audience or issuer, and one signed for HS256 with the public key's text", async () => {
    const { privateKey } = rsa;
    const pem = await exportSPKI(rsa.publicKey);
    await start({ secret: undefined, publicKey: pem, algorithms: ['RS256'], audience: 'api', issuer: 'https://auth.example' });
    const good = bearer(await token(clock, { sub: 'erin', aud: 'api', iss: 'https://auth.example' }, privateKey, 'RS256'));
    await get(good).expect(200);
    await get(bearer(await token(clock, { sub: 'erin', aud: 'other', iss: 'https://auth.example' }, privateKey, 'RS256'))).expect(401);
    await get(bearer(await token(clock, { sub: 'erin', aud: 'api', iss: 'https://evil.example' }, privateKey, 'RS256'))).expect(401);
    // Algorithm confusion: an HMAC keyed with the public key's PEM text.
    await get(bearer(await token(clock, { sub: 'erin', aud: 'api', iss: 'https://auth.example', group: 'admin' }, new TextEncoder().encode(pem)))).expect(401);
  });

  it('verifies ES256 tokens against a JWKS, admins unlimited', async () => {
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256' };
    await start({ secret: undefined, jwks: { keys: [jwk] }, algorithms: ['ES256'] });
    const sign = (claims: JWTPayload) => token(clock, claims, ec.privateKey, 'ES256');
    expect(await statuses(3, bearer(await sign({ sub: 'frank' })))).toEqual([200, 200, 429]);
    expect(await statuses(5, bearer(await sign({ sub: 'root', group: 'admin' })))).toEqual([200, 200, 200, 200, 200]);
    await get(bearer(await token(clock, { sub: 'root', group: 'admin' }, stranger.privateKey, 'ES256'))).expect(401);
  });

  it("verifies each request's token once, for both resolvers", async () => {
    const keys: string[] = [];
    const jwks = async (header: { kid?: string }) => {
      keys.push(header.kid ?? '');
      return ec.publicKey;
    };
    await start({ secret: undefined, jwks, algorithms: ['ES256'] });
    const acme = bearer(await new SignJWT({ sub: 'acme', group: 'partner' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(ec.privateKey));
    expect(await statuses(5, acme)).toEqual([200, 200, 200, 200, 429]);
    expect(keys).toEqual(['k1', 'k1', 'k1', 'k1', 'k1']);
  });

  it("keeps one user's token from getting another user counted or banned", async () => {
    // The first violation bans for good.
    await start({}, { escalation: { blockAfterViolations: 5, permanentBanAfter: 1 } });
    const mallory = bearer(await token(clock, { sub: 'mallory' }));
    const victim = bearer(await token(clock, { sub: 'victim' }));
    expect(await statuses(4, mallory)).toEqual([200, 200, 403, 403]);
    // Forged tokens naming the victim are refused before anything is counted.
    for (let i = 0; i < 3; i++) await get(bearer(await token(clock, { sub: 'victim' }, FORGED_SECRET))).expect(401);
    const service = t.app.get(RateLimitService);
    expect((await service.status('mallory')).ban).toMatchObject({ kind: 'permanent' });
    expect((await service.status('victim')).ban).toBeNull();
    // The victim's own quota is whole (a third request would be its own first violation, and ban it).
    expect(await statuses(2, victim)).toEqual([200, 200]);
  });
});
