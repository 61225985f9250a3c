import { Controller, Get } from '@nestjs/common';
import { SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { RateLimitModule, SkipThrottle, type RateLimitModuleOptions, type RateLimitRule } from '../../../lib/index.js';
import type { FakeClock } from '../../support/fake-clock.js';
import type { TestApp } from '../../support/http-app.js';

@Controller()
export class AccountController {
  @Get('data') data() {
    return 'data';
  }

  @SkipThrottle() @Get('free') free() {
    return 'free';
  }
}

/**
 * 2 a minute for the default group, 4 for partners; admins are unlimited. Escalation is off unless a
 * scenario turns it on: a denied request is answered by its rule alone.
 */
export const RULES: RateLimitRule[] = [
  { limit: 2, windowMs: 60_000, algorithm: 'fixed-window' },
  { name: 'partners', groups: ['partner'], limit: 4, windowMs: 60_000, algorithm: 'fixed-window' },
];

/** A logger that keeps the errors it is given. */
export function recordingLogger(): { log(): void; warn(): void; error(message: string): void; readonly errors: string[] } {
  const errors: string[] = [];
  return { log: () => undefined, warn: () => undefined, error: (message: string) => errors.push(message), errors };
}

export const groupsModule = (options: RateLimitModuleOptions) => ({
  imports: [
    RateLimitModule.forRoot({ rules: RULES, groups: { admin: { unlimited: true } }, escalation: false, logger: recordingLogger(), logging: false, ...options }),
  ],
  controllers: [AccountController],
});

/** A secret long enough for HS256 (32 bytes or more). */
export const SECRET = 'a-test-secret-of-at-least-32-bytes';

/** Another secret: what a forger signs with. */
export const FORGED_SECRET = new TextEncoder().encode('another-secret-also-32-bytes-long!!');

/** A token signed with `key` (HS256 with the test secret unless told), issued now by `clock` and valid an hour. */
export async function token(
  clock: FakeClock,
  claims: JWTPayload,
  key: Uint8Array | CryptoKey = new TextEncoder().encode(SECRET),
  alg = 'HS256',
  lifetimeSeconds = 3_600,
): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSeconds)
    .sign(key);
}

/** An unsigned token (`alg: none`) carrying `claims`: anyone can write one. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });

/** The statuses of `n` requests to `/data` with `headers`, one after the other. */
export async function statuses(t: TestApp, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await t.http().get('/data').set(headers)).status);
  return out;
}

/** Checks a 401 of the module's default identity-error response: problem details with `detail`, and `challenge` (or none). */
export function expectUnauthorized(res: { headers: Record<string, string>; body: unknown }, detail: string, challenge?: string): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['www-authenticate']).toBe(challenge);
  expect(res.headers['ratelimit']).toBeUndefined();
  expect(res.body).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail });
}
