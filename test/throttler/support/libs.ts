import * as real from '@nestjs/throttler';
import * as ours from '../../../lib/throttler/index.js';

/** The module object of a throttler package, typed as ours (the two have the same shape). */
export type ThrottlerLib = typeof ours;

/**
 * The two implementations every compatibility spec runs against: the same spec body, the same
 * expected status codes, headers and bodies.
 */
export const LIBS: Array<[string, ThrottlerLib]> = [
  ['@nestjs/throttler', real as unknown as ThrottlerLib],
  ['nest-rampart/throttler', ours],
];

export { ours, real };
