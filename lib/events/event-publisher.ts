import type { RampartLogger } from '../core/logger.js';
import { isThenable } from '../core/thenable.js';
import { listenerFailed } from '../errors/messages.js';
import { EVENT_HANDLERS, type RampartEventMap, type RampartEventName, type RateLimitEventHandlers } from './rate-limit-events.js';

/** The methods of an EventEmitter2 (or any emitter) used here. */
export interface EventEmitterLike {
  emit(event: string, ...values: unknown[]): unknown;
  /** Returns the listeners' results, so that an async listener's rejection can be caught. */
  emitAsync?(event: string, ...values: unknown[]): Promise<unknown>;
}

/**
 * Delivers Rampart's events to the `events` callbacks and, once one is attached, to an emitter (the
 * app's EventEmitter2 in a Nest app). Nothing a listener does reaches the request: a throw or a
 * rejection is logged.
 */
export class EventPublisher {
  private emitter: EventEmitterLike | undefined;
  /** Rampart's own listeners (the WebSocket adapter closes a banned client's sockets). */
  private readonly listeners = new Set<(name: RampartEventName, event: RampartEventMap[RampartEventName]) => void>();

  constructor(
    private readonly handlers: RateLimitEventHandlers | undefined,
    private readonly logger: RampartLogger,
  ) {}

  /** Also emits every event on `emitter`, under its `rampart.*` name. */
  attachEmitter(emitter: EventEmitterLike | undefined): void {
    this.emitter = emitter;
  }

  /** Calls `listener` with every event published from now on, until the returned function is called. */
  listen(listener: (name: RampartEventName, event: RampartEventMap[RampartEventName]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls the handler of each event published from now on, as the `events` option's callbacks are
   * called (`onViolation`, `onBlock`...), until the returned function is called.
   */
  subscribe(handlers: RateLimitEventHandlers): () => void {
    return this.listen((name, event) => (handlers[EVENT_HANDLERS[name]] as ((payload: unknown) => unknown) | undefined)?.(event));
  }

  publish<N extends RampartEventName>(name: N, event: RampartEventMap[N]): void {
    for (const listener of this.listeners) this.run(name, 'a Rampart listener', () => listener(name, event));
    const handlerName = EVENT_HANDLERS[name];
    const handler = this.handlers?.[handlerName] as ((payload: RampartEventMap[N]) => unknown) | undefined;
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
