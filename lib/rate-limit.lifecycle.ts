import { Injectable, type ExecutionContext, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Rampart } from './engine/rampart.js';
import { findEventEmitter } from './events/event-emitter.loader.js';

/**
 * Runs Rampart with the app: at startup, finds the app's EventEmitter2 (when there is one) and
 * prepares the storage; at shutdown, stops the timers and, once the server no longer takes
 * requests, closes the storage.
 */
@Injectable()
export class RateLimitLifecycle implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    this.rampart.events.attachEmitter(await findEventEmitter(this.moduleRef));
    await this.rampart.lifecycle.start();
  }

  onModuleDestroy(): void {
    this.rampart.lifecycle.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.rampart.lifecycle.close();
  }
}
