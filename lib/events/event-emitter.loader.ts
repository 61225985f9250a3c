import type { ModuleRef } from '@nestjs/core';
import type { EventEmitterLike } from './event-publisher.js';

/**
 * The app's EventEmitter2, when `@nestjs/event-emitter` is installed and its module imported.
 * Loaded on demand so that the package stays an optional peer dependency.
 */
export async function findEventEmitter(moduleRef: ModuleRef): Promise<EventEmitterLike | undefined> {
  let token: unknown;
  try {
    token = ((await import('@nestjs/event-emitter')) as { EventEmitter2?: unknown }).EventEmitter2;
  } catch {
    return undefined;
  }
  if (typeof token !== 'function') return undefined;
  try {
    const emitter = moduleRef.get(token as new () => EventEmitterLike, { strict: false });
    return typeof emitter?.emit === 'function' ? emitter : undefined;
  } catch {
    return undefined;
  }
}
