/** 2030-01-01T00:00:00Z: the start of every timed scenario. */
export const START = Date.UTC(2030, 0, 1);

/**
 * Fakes `Date` only. `@nestjs/throttler` reads `Date.now()`, and so does our storage when no clock
 * is given; timers stay real so that the HTTP stacks and supertest run normally (nothing in the
 * specs waits on a timer).
 */
export function useFakeDate(now = START): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/** Moves the faked `Date` forward. */
export function advance(ms: number): void {
  jest.setSystemTime(Date.now() + ms);
}
