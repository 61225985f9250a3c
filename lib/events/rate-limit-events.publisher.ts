import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { listenerFailed } from '../errors/messages.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from '../rate-limit.constants.js';
import { EVENT_HANDLERS, type RampartEventMap, type RampartEventName } from './rate-limit-events.js';

/** The methods of EventEmitter2 used here. */
interface Emitter {
  emit(event: string, ...values: unknown[]): unknown;
  /** Returns the listeners' results, so that an async listener's rejection can be caught. */
  emitAsync?(event: string, ...values: unknown[]): Promise<unknown>;
}

/**
 * Delivers Rampart's events to the module's `events` callbacks and, when the app has
 * `@nestjs/event-emitter`, to its `EventEmitter2`. Nothing a listener does reaches the request:
 * a throw or a rejection is logged.
 */
@Injectable()
export class RateLimitEventsPublisher implements OnModuleInit {
  private readonly logger = new Logger('RateLimit');
  private emitter: Emitter | undefined;

  constructor(
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    this.emitter = await findEventEmitter(this.moduleRef);
  }

  /** Whether an EventEmitter2 of the app receives the events. */
  get emitsToEventEmitter(): boolean {
    return this.emitter !== undefined;
  }

  publish<N extends RampartEventName>(name: N, event: RampartEventMap[N]): void {
    const handlerName = EVENT_HANDLERS[name];
    const handler = this.config.events?.[handlerName] as ((payload: RampartEventMap[N]) => unknown) | undefined;
    if (handler) this.run(name, `events.${handlerName}`, () => handler(event));
    const emitter = this.emitter;
    // emit() drops what async listeners return: a rejection would be unhandled and end the process.
    if (emitter) this.run(name, 'an EventEmitter2 listener', () => (emitter.emitAsync ? emitter.emitAsync(name, event) : emitter.emit(name, event)));
  }

  private run(name: RampartEventName, where: string, deliver: () => unknown): void {
    try {
      const result = deliver();
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.report(name, where, error));
    } catch (error) {
      this.report(name, where, error);
    }
  }

  private report(name: RampartEventName, where: string, error: unknown): void {
    this.logger.error(listenerFailed(name, where, error), error instanceof Error ? error.stack : undefined);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * The app's EventEmitter2, when `@nestjs/event-emitter` is installed and its module imported.
 * Loaded on demand so that the package stays an optional peer dependency.
 */
async function findEventEmitter(moduleRef: ModuleRef): Promise<Emitter | undefined> {
  let token: unknown;
  try {
    token = ((await import('@nestjs/event-emitter')) as { EventEmitter2?: unknown }).EventEmitter2;
  } catch {
    return undefined;
  }
  if (typeof token !== 'function') return undefined;
  try {
    const emitter = moduleRef.get(token as new () => Emitter, { strict: false });
    return typeof emitter?.emit === 'function' ? emitter : undefined;
  } catch {
    return undefined;
  }
}
