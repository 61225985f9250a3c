import type { ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RateLimitConfigurationError, type RateLimitModuleOptions } from '../../lib/index.js';
import { resolveRateLimitConfig } from '../../lib/rate-limit.config.js';

/** The problems startup validation finds in `options` (none: an empty list). */
export function problemsOf(options: RateLimitModuleOptions): readonly string[] {
  try {
    resolveRateLimitConfig(options);
  } catch (error) {
    if (error instanceof RateLimitConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

/**
 * The problems that stop an app of `metadata` at startup (`app.init()` rejecting with a
 * `RateLimitConfigurationError`); fails when it starts, or fails otherwise.
 */
export async function startupProblems(metadata: ModuleMetadata): Promise<readonly string[]> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const error = await app.init().then(
    () => undefined,
    (e: unknown) => e,
  );
  await app.close().catch(() => undefined);
  if (!(error instanceof RateLimitConfigurationError)) throw new Error(`expected a RateLimitConfigurationError at startup, got ${String(error)}`);
  return error.problems;
}
