import { generateKeyPairSync } from 'node:crypto';
import { ipIdentity, RateLimitConfigurationError, sessionIdentity, type RateLimitModuleOptions } from '../../../lib/index.js';
import { jwtIdentity, type JwtIdentityOptions } from '../../../lib/jwt/index.js';
import { problemsOf } from '../../support/config-problems.js';
import { SECRET } from './groups.app.js';

/** The error a helper throws for `options`: its first line and its problems. */
function refusal(make: () => unknown): { readonly header: string; readonly problems: readonly string[] } {
  try {
    make();
  } catch (error) {
    if (!(error instanceof RateLimitConfigurationError)) throw error;
    return { header: error.message.split('\n')[0]!, problems: error.problems };
  }
  throw new Error('no error was thrown');
}

const jwt = (options: object) => refusal(() => jwtIdentity(options as JwtIdentityOptions));
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('identity helpers at startup', () => {
  it('jwtIdentity lists every problem of its options in one error', () => {
    const { header, problems } = jwt({
      secret: 'too short',
      algorithms: ['HS256', 'none', 'RS256'],
      onInvalid: 'ignore',
      clockToleranceSeconds: -1,
      userClaim: '',
      header: 'bad header',
      issuer: [],
      algorithm: 'HS256',
    });
    expect(header).toBe('jwtIdentity is misconfigured (9 problems):');
    expect(problems).toEqual([
      expect.stringMatching(/^jwtIdentity\.algorithm is not an option/),
      expect.stringMatching(/^jwtIdentity\.algorithms lists 'none': an unsigned token proves nothing/),
      "jwtIdentity.algorithms: 'RS256' cannot be verified with a secret; use HS256, HS384, HS512.",
      'jwtIdentity.secret is 9 bytes long; HS256 needs at least 32 (RFC 7518, 3.2). Use a longer random secret, e.g. openssl rand -base64 32.',
      expect.stringMatching(/^jwtIdentity\.issuer must be a non-empty string or a non-empty list of strings/),
      expect.stringMatching(/^jwtIdentity\.userClaim must be the name of a claim/),
      expect.stringMatching(/^jwtIdentity\.header must be the name of a request header/),
      expect.stringMatching(/^jwtIdentity\.onInvalid must be 'reject' .* or 'anonymous'/),
      expect.stringMatching(/^jwtIdentity\.clockToleranceSeconds must be a number of 0 or more/),
    ]);
  });

  it.each([
    ['no key', {}, /needs one of secret \(HS256\), publicKey \(RS256, ES256\.\.\.\) or jwks/],
    ['two keys', { secret: SECRET, jwks: { keys: [] }, algorithms: ['HS256'] }, /takes one of secret, publicKey or jwks, got secret and jwks/],
    ['a secret without algorithms', { secret: SECRET }, /algorithms is required with a secret: .*e\.g\. algorithms: \['HS256'\]/],
    ['a public key without algorithms', { publicKey: rsaPem }, /algorithms is required with a public key/],
    ['only none', { secret: SECRET, algorithms: ['NONE'] }, /lists 'none'/],
    ['HS512 with a 48-byte secret', { secret: 'x'.repeat(48), algorithms: ['HS512'] }, /48 bytes long; HS512 needs at least 64/],
    ['HMAC with a public key', { publicKey: rsaPem, algorithms: ['HS256'] }, /'HS256' cannot be verified with a public key/],
    [
      'ES256 with an RSA key',
      { publicKey: rsaPem, algorithms: ['ES256'] },
      /'ES256' cannot be verified with this public key \(rsa\); use RS256, RS384, RS512, PS256, PS384, PS512/,
    ],
    ['a key that is no PEM', { publicKey: 'not a key', algorithms: ['RS256'] }, /publicKey must be a public key: a PEM text/],
    ['a secret as public key', { publicKey: { kty: 'oct', k: 'AAAA' }, algorithms: ['RS256'] }, /publicKey must be a public key/],
    ['a JWKS without keys', { jwks: { keys: 'none' } }, /jwks must be a key set/],
    ['algorithms that are no list', { secret: SECRET, algorithms: 'HS256' }, /algorithms must be a non-empty list of algorithm names/],
    ['a secret that is no text', { secret: 42, algorithms: ['HS256'] }, /secret must be a string or a Uint8Array/],
  ])('jwtIdentity refuses %s', (_name, options, problem) => {
    const { header, problems } = jwt(options);
    expect(header).toMatch(/^jwtIdentity is misconfigured/);
    expect(problems).toContainEqual(expect.stringMatching(problem));
  });

  it('jwtIdentity takes a long enough secret, a public key of the right type, and a key set', () => {
    expect(jwtIdentity({ secret: new Uint8Array(64), algorithms: ['HS256', 'HS512'] })).toEqual({
      keyResolver: expect.any(Function),
      groupResolver: expect.any(Function),
    });
    expect(jwtIdentity({ publicKey: rsaPem, algorithms: ['RS256', 'PS256'] }).keyResolver).toEqual(expect.any(Function));
    expect(jwtIdentity({ jwks: async () => new Uint8Array(32) }).groupResolver).toEqual(expect.any(Function));
  });

  it('ipIdentity lists every range that is not one, and a range in two groups', () => {
    const { header, problems } = refusal(() =>
      ipIdentity({ groups: { internal: ['10.0.0.0/33', 'nope', '10.0.0.5/8', '192.0.2.0/24'], partner: ['192.0.2.0/24'], empty: [], 'bad name': ['::1'] } }),
    );
    expect(header).toBe('ipIdentity is misconfigured (6 problems):');
    expect(problems).toEqual([
      'ipIdentity.groups.internal[0]: the prefix length must be 0 to 32, got "10.0.0.0/33".',
      'ipIdentity.groups.internal[1] must be an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/48, got "nope".',
      expect.stringMatching(/^ipIdentity\.groups\.internal\[2\].*10\.0\.0\.5\/8/),
      "ipIdentity.groups: the range 192.0.2.0/24 is in both 'internal' and 'partner'. Keep it in one group.",
      expect.stringMatching(/^ipIdentity\.groups\.empty must be a non-empty list of IP addresses or CIDR ranges/),
      "ipIdentity.groups: 'bad name' is not a group name: 1-64 letters, digits, '_', '-' or '.'.",
    ]);
    expect(refusal(() => ipIdentity({ groups: ['10.0.0.0/8'] } as never)).problems).toEqual([
      expect.stringMatching(/^ipIdentity\.groups must be an object of group names/),
    ]);
  });

  it('sessionIdentity lists its problems', () => {
    const { problems } = refusal(() => sessionIdentity({ userKey: 'passport..user', groupKey: '', required: 'yes' as never, user: 'x' } as never));
    expect(problems).toEqual([
      expect.stringMatching(/^sessionIdentity\.user is not an option/),
      expect.stringMatching(/^sessionIdentity\.userKey must be a session key, or a dotted path/),
      expect.stringMatching(/^sessionIdentity\.groupKey must be a session key/),
      'sessionIdentity.required must be true or false, got "yes".',
    ]);
  });

  it('the module lists callbacks that are no functions with its other problems', () => {
    const options = { denialResponse: 'Too many!', identityErrorResponse: 401, groupResolver: 'admin', keyResolver: {} } as unknown as RateLimitModuleOptions;
    expect(problemsOf(options)).toEqual(
      expect.arrayContaining([
        'denialResponse must be a function, got "Too many!".',
        'identityErrorResponse must be a function, got 401.',
        'groupResolver must be a function, got "admin".',
        'keyResolver must be a function, got an object.',
      ]),
    );
    expect(problemsOf(options)).toHaveLength(4);
  });
});
