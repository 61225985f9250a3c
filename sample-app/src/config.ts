/**
 * Settings of the sample app, read once from the environment. Decorators such as `@Throttle` are
 * evaluated when their class is defined, so the values must be known at import time.
 *
 * | Variable                     | Default | Meaning                                     |
 * | ---------------------------- | ------- | ------------------------------------------- |
 * | `PORT`                       | 3000    | HTTP port (0 picks a free one)              |
 * | `RATE_LIMIT_DEFAULT`         | 10      | requests per window on every route          |
 * | `RATE_LIMIT_WINDOW_MS`       | 60000   | window of the default rule                  |
 * | `RATE_LIMIT_LOGIN`           | 5       | `POST /auth/login` attempts per window      |
 * | `RATE_LIMIT_LOGIN_WINDOW_MS` | 60000   | window of the login rule                    |
 */
export interface Settings {
  readonly port: number;
  readonly defaultLimit: number;
  readonly defaultWindowMs: number;
  readonly loginLimit: number;
  readonly loginWindowMs: number;
}

function readSettings(env: NodeJS.ProcessEnv): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(env[name])}`);
      return fallback;
    }
    return value;
  };
  const settings: Settings = {
    port: integer('PORT', 3000, 0, 65_535),
    defaultLimit: integer('RATE_LIMIT_DEFAULT', 10, 1),
    defaultWindowMs: integer('RATE_LIMIT_WINDOW_MS', 60_000, 1),
    loginLimit: integer('RATE_LIMIT_LOGIN', 5, 1),
    loginWindowMs: integer('RATE_LIMIT_LOGIN_WINDOW_MS', 60_000, 1),
  };
  return { settings, problems };
}

const { settings: loaded, problems } = readSettings(process.env);
if (problems.length > 0) {
  console.error(`sample-app: invalid environment:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

export const settings: Settings = loaded;
