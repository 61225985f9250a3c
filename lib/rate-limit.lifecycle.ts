import {
  Injectable,
  type ExecutionContext,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { ConnectionSource } from './core/ip/connection-peers.js';
import { Rampart } from './engine/rampart.js';
import { findEventEmitter } from './events/event-emitter.loader.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { RouteRulesResolver } from './route-rules.resolver.js';
import { OutcomePlacement } from './outcome/outcome-placement.js';
import { hookWsAdapters } from './ws/ws-adapter-hook.js';
import type { WsConnectionGate } from './ws/ws-connection-gate.js';

/**
 * Runs Rampart with the app: from its creation, checks the handshakes of WebSocket gateways (see
 * `hookWsAdapters`); at startup, watches the app's HTTP server for connections, finds the app's
 * EventEmitter2 (when there is one), prepares the storage and starts writing statistics; at shutdown,
 * stops polling the storage and, once the server no longer takes requests, stops the alerts, writes
 * a last statistics summary, logs the event log's summaries still due, gives back this instance's
 * leases, writes the violations still held and closes the storage (`Rampart.halt`, then `Rampart.close`).
 */
@Injectable()
export class RateLimitLifecycle implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly moduleRef: ModuleRef,
    private readonly routeRules: RouteRulesResolver,
    appConfig: ApplicationConfig,
    private readonly outcomes: OutcomePlacement,
  ) {
    // Gateways are connected to their adapter before any module's onModuleInit: the adapter is
    // hooked when Nest is given it. The gate itself is loaded with the first handshake.
    let gate: Promise<WsConnectionGate> | undefined;
    const config = rampart.config as RateLimitConfig;
    hookWsAdapters(
      appConfig as unknown as Parameters<typeof hookWsAdapters>[0],
      () => (gate ??= import('./ws/ws-connection-gate.js').then(({ WsConnectionGate }) => new WsConnectionGate(rampart, config.websockets))),
      config.logger,
    );
  }

  async onModuleInit(): Promise<void> {
    // An app without HTTP (a microservice) runs no module's configure(): its handlers are built after this.
    this.outcomes.place();
    this.watchHttpServer();
    this.rampart.events.attachEmitter(await findEventEmitter(this.moduleRef));
    await this.rampart.start();
  }

  /**
   * Remembers each connection's peer address from the moment the app's HTTP server accepts it (a
   * request whose connection is reset keeps its address). The server exists before the app
   * listens; an application context without HTTP has none.
   */
  private watchHttpServer(): void {
    const server = this.httpServer();
    if (server) this.rampart.watch(server);
  }

  /**
   * With WebSocket gateways, remembers the headers of each handshake on the app's HTTP server (where
   * the ws and socket.io adapters take upgrades): forwarded headers from a trusted proxy name the
   * client of a \`ws\` connection, which keeps no handshake of its own.
   */
  onApplicationBootstrap(): void {
    if (!this.routeRules.hasGateways) return;
    const server = this.httpServer();
    if (server) this.rampart.engine.identity.peers.watchUpgrades(server);
  }

  private httpServer(): ConnectionSource | undefined {
    let server: unknown;
    try {
      server = this.moduleRef.get(HttpAdapterHost, { strict: false })?.httpAdapter?.getHttpServer();
    } catch {
      return undefined;
    }
    return typeof (server as Partial<ConnectionSource> | undefined)?.on === 'function' ? (server as ConnectionSource) : undefined;
  }

  /** Stops polling the storage: see `Rampart.halt`. */
  onModuleDestroy(): void {
    this.rampart.halt();
  }

  /** Once the server no longer takes requests: see `Rampart.close`. */
  async onApplicationShutdown(): Promise<void> {
    await this.rampart.close();
  }
}
