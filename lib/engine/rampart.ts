import type { ConnectionSource, PeerSocket } from '../core/ip/connection-peers.js';
import { BanSync } from '../protection/ban-sync.js';
import { Escalator } from '../protection/escalator.js';
import { LeaseKeeper } from '../protection/lease-keeper.js';
import { RateLimitService } from '../protection/rate-limit.service.js';
import { StorageLifecycle } from '../protection/storage-lifecycle.js';
import { StoreGateway } from '../protection/store-gateway.js';
import { probeStore, STORAGE_STEP_TIMEOUT_FACTOR, StoreHealth, withTimeout } from '../protection/store-health.js';
import { ViolationWriter } from '../protection/violation-writer.js';
import * as messages from '../errors/messages.js';
import { EventPublisher } from '../events/event-publisher.js';
import { resolveRampartConfig, type RampartConfig } from './rampart-config.js';
import { ClientIdentity } from './client-identity.js';
import { RampartEngine, type DecisionObserver } from './rampart-engine.js';
import { RateLimitHeaders } from './rate-limit-headers.js';
import type { RampartOptions } from './rampart-options.interface.js';
import type { RampartRequest } from './rampart-request.js';
import { PROBE_KEY, PROBE_RULE, StoreKeys } from './store-keys.js';
import type { Verdict } from './verdict.js';
import { DecisionRecorder } from '../observability/decision-recorder.js';
import { StoreTimings } from '../observability/store-timings.js';
import { AlertMonitor } from '../alerts/alert-monitor.js';
import { StatsReporter } from '../observability/stats-reporter.js';
import { EventLog } from '../observability/event-log.js';
import { OutcomeDenials } from '../outcome/outcome-denials.js';
import { OutcomeSettler, type Reservation } from '../outcome/outcome-settler.js';
import type { RequestOutcome } from '../outcome/request-outcome.js';
import { AdaptiveLimits } from '../adaptive/adaptive-limits.js';
import { MemoryAdaptiveStore } from '../storage/memory-adaptive.store.js';
import { ddosDetector } from '../ddos/ddos-setup.js';
import type { DdosDetector } from '../ddos/ddos-detector.js';
import { observerChain } from './observer-chain.js';

/**
 * Rampart, assembled from its parts: the engine that decides requests, the service operators use,
 * and the parts with one job each (storage lifecycle, ban and list sync, escalation, store health).
 * The Nest module builds one per app; `createRampart` builds one for use without Nest.
 */
export class Rampart<C = unknown> {
  readonly engine: RampartEngine<C>;
  /** Bans, unbans, client status, allow/deny lists. */
  readonly service: RateLimitService;
  readonly events: EventPublisher;
  // The parts below are for adapters and diagnostics; operators go through `service`, which keeps
  // the storage and every instance's cache in step.
  /** Whether the rate-limit store answers (down and up are logged and announced). */
  readonly health: StoreHealth;
  /** The in-memory lists, bans and blocks, and their sync with the storage. */
  readonly bans: BanSync;
  /** Violation recording and escalation. */
  readonly escalator: Escalator;
  /** The storage from startup to shutdown. */
  readonly lifecycle: StorageLifecycle;
  /** Writes a verdict's `RateLimit`, `RateLimit-Policy` (and legacy) and `Retry-After` headers. */
  readonly headers: RateLimitHeaders;
  /** The slots of concurrency limits (WebSocket connections, requests in flight), shared through `storage.leases`. */
  readonly leases: LeaseKeeper;
  /** Gives back what outcome-aware rules (`countIf`) reserved for a request whose outcome they do not count. */
  readonly outcomes: OutcomeSettler<C>;
  /** Each client's state under adaptive rules, held in memory and written back to `storage.adaptive`. */
  readonly adaptive: AdaptiveLimits;
  /** This instance's statistics (decisions, violations, escalations); undefined with `stats: false`. */
  readonly stats: DecisionRecorder | undefined;
  /** Latency of the rate-limit store's calls, by operation: off until the Prometheus metrics enable it. */
  readonly storeTimings = new StoreTimings();
  /** The `alerts` thresholds, evaluated from `start` to `stop`, and their delivery; undefined without that option. */
  readonly alerts: AlertMonitor | undefined;
  /** Writes `stats` to `storage.stats` for the fleet-wide stats API; undefined without either. */
  readonly reporter: StatsReporter | undefined;
  /** DDoS detection (the `ddos` option); undefined when it is off. */
  readonly ddos: DdosDetector<C> | undefined;
  private readonly writer: ViolationWriter;
  /** The event log of violations, blocks, bans and unbans; undefined with `logging: false`. */
  private readonly eventLog: EventLog | undefined;
  /** Set by `halt`: the timers `start` would start are left off. */
  private halted = false;
  /** The shutdown under way or done (see `close`). */
  private closing: Promise<void> | undefined;

  /** The configuration in force (see `reconfigure`). */
  private current: RampartConfig<C>;

  constructor(config: RampartConfig<C>) {
    this.current = config;
    const { storage, store, clock, logger, storeTimeoutMs } = config;
    this.events = new EventPublisher(config.events, logger);
    this.health = new StoreHealth(
      clock,
      this.events,
      logger,
      config.storeFallback,
      {
        run: () => probeStore(store, clock),
        check: () => store.get(PROBE_KEY, PROBE_RULE, clock.now()),
        timeoutMs: storeTimeoutMs,
        intervalMs: config.storeProbeIntervalMs,
      },
      config.storeBreaker,
    );
    // A storage call off the request path waits longer than a request would, but never forever.
    const stepTimeoutMs = STORAGE_STEP_TIMEOUT_FACTOR * storeTimeoutMs;
    const bounded = <T>(call: () => Promise<T>) => withTimeout(call, stepTimeoutMs);
    // A client whose ban record the bounded cache dropped is read on its request: within the request's timeout.
    this.bans = new BanSync(storage, clock, bounded, {
      maxCachedKeyBans: config.maxCachedBans,
      requestBounded: (call) => withTimeout(call, storeTimeoutMs),
      lookupsPaused: () => this.health.isDown,
    });
    const writer = (this.writer = new ViolationWriter(storage.violations, this.health, logger, bounded));
    this.escalator = new Escalator({
      storage,
      bans: this.bans,
      writer,
      health: this.health,
      events: this.events,
      logger,
      bounded,
      requestTimeoutMs: storeTimeoutMs,
      ...(config.autoBanDurationMs !== undefined ? { autoBanDurationMs: config.autoBanDurationMs } : {}),
    });
    const gateway = new StoreGateway(store, this.health, config, this.storeTimings);
    const outcomes = new OutcomeDenials(gateway, clock);
    this.outcomes = new OutcomeSettler({ store: gateway, clock, logger, inFlight: outcomes.inFlight });
    const keys = new StoreKeys(config.ipv6PrefixLength);
    const identity = new ClientIdentity(config, keys);
    this.adaptive = new AdaptiveLimits(storage.adaptive ?? new MemoryAdaptiveStore(), { timeoutMs: storeTimeoutMs, logger });
    this.engine = new RampartEngine(config, { keys, identity, bans: this.bans, gateway, escalator: this.escalator, adaptive: this.adaptive, outcomes });
    const escalationOf = () => this.current.escalation;
    this.service = new RateLimitService({
      storage,
      store,
      clock,
      // Read at each use: a reloaded configuration may change it.
      get escalation() {
        return escalationOf();
      },
      bans: this.bans,
      events: this.events,
      engine: this.engine as unknown as RampartEngine<never>,
    });
    this.lifecycle = new StorageLifecycle({ ...config, bans: this.bans, health: this.health });
    this.headers = new RateLimitHeaders(config);
    this.leases = new LeaseKeeper(storage.leases, { clock, leaseMs: config.leaseMs, timeoutMs: storeTimeoutMs, logger });
    if (config.stats) {
      this.stats = new DecisionRecorder(config.stats, clock.now());
      this.stats.listen(this.events);
      if (storage.stats) this.reporter = new StatsReporter(this.stats, storage.stats, { clock, logger, timeoutMs: stepTimeoutMs });
    }
    this.ddos = ddosDetector(config, { events: this.events, bans: this.bans, health: this.health, bounded });
    this.engine.observe(observerChain(this.stats as unknown as DecisionObserver<C> | undefined, this.ddos));
    const { events } = this;
    if (config.alerts && this.stats)
      this.alerts = new AlertMonitor(config.alerts, { recorder: this.stats, storage, events, clock, logger, storageTimeoutMs: stepTimeoutMs, ddos: this.ddos });
    if (config.logging) (this.eventLog = new EventLog(config.logging, logger, clock)).listen(this.events);
  }

  /** The configuration in force: the one given, or the last one `reconfigure` applied. */
  get config(): RampartConfig<C> {
    return this.current;
  }

  /**
   * Applies a reloaded configuration's rules, escalation and groups, at once for every request
   * decided from now on (one decision under way finishes with the rules it started with). Counters
   * are the store's: a rule that keeps its name (and, for a configuration file's rules, its
   * algorithm) keeps its counts. The other settings are read at startup: given here, they are only
   * kept for adapters to read (the Nest module's routes and `enabled`).
   */
  reconfigure(next: Partial<RampartConfig<C>>): void {
    this.current = Object.freeze({ ...this.current, ...next });
    this.engine.reconfigure(this.current);
  }

  /** Whether the storage is prepared and the stored bans and lists are loaded. */
  get storageReady(): boolean {
    return this.lifecycle.storageReady;
  }

  /**
   * Prepares the storage and loads the bans and lists (see `storeStartupTimeoutMs` and
   * `requireStore`), then keeps them in step with the other instances until `stop`. Once the
   * storage has started (and not before: a failed start leaves no timer behind), evaluates the
   * alerts and writes this instance's statistics to the storage every `stats.reportIntervalMs`.
   */
  async start(): Promise<void> {
    await this.lifecycle.start();
    if (this.halted) return;
    this.alerts?.start();
    this.reporter?.start();
  }

  /**
   * Stops the timers, gives back this instance's leases, writes the violations still held and a
   * last statistics summary (while the storage takes writes), then closes the storage: `halt`,
   * then `close`.
   */
  async stop(): Promise<void> {
    this.halt();
    await this.close();
  }

  /**
   * The first step of `stop` (the Nest module's `onModuleDestroy`): stops polling the storage for
   * ban and list changes, and keeps a `start` still in flight from starting the other timers.
   */
  halt(): void {
    this.halted = true;
    this.lifecycle.stop();
  }

  /**
   * The second step of `stop` (the Nest module's `onApplicationShutdown`, once the server takes no
   * more requests): stops the alerts (delivering what is queued, within bounds), writes a last
   * statistics summary, gives back this instance's leases, writes the violations still held, logs
   * the event log's summaries still due, then closes the storage. Runs once, however often it is
   * called.
   */
  close(): Promise<void> {
    // Once: Nest may run its shutdown hooks again, and `stop` may be called besides.
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.halt();
    await this.alerts?.stop();
    await this.reporter?.stop();
    await this.leases.stop();
    // Refunds each bounded by the store timeout: given back before the storage closes.
    await this.outcomes.stop();
    try {
      await withTimeout(() => this.writer.drain(), STORAGE_STEP_TIMEOUT_FACTOR * this.config.storeTimeoutMs);
    } catch (error) {
      this.config.logger.error(messages.heldViolationsNotWritten(error));
    }
    // What was not written in time stays unwritten: nothing writes to the storage once it is closed.
    this.writer.stop();
    // Last: blocks and bans that violations written above still started are logged too.
    this.eventLog?.stop();
    await this.lifecycle.close();
  }

  /** Decides one request: see `RampartEngine.decide`. */
  decide(request: RampartRequest<C>): Verdict<C> | Promise<Verdict<C>> {
    return this.engine.decide(request);
  }

  /**
   * Settles a verdict once the request's outcome is known, for rules with `countIf`: each such rule
   * gives back what it took for an outcome it does not count, and counts one it counts (see
   * `OutcomeSettler`). Call it once per verdict: after the handler, with no outcome (`undefined`:
   * counted) when the client went away first, and at once for a refusal, whatever the outcome given.
   *
   * @example
   * res.on('close', () => rampart.settle(verdict, res.writableFinished ? { protocol: 'http', status: res.statusCode } : undefined));
   */
  settle(verdict: Verdict<C>, outcome: RequestOutcome<C> | undefined, request: Pick<RampartRequest<C>, 'context' | 'storeKey'> = {}): Promise<void> {
    if (verdict.outcome !== 'admitted') return this.outcomes.refused(verdict, { ...request, protocol: outcome?.protocol ?? 'http' });
    const reservation: Reservation<C> | undefined = this.outcomes.reserve(verdict, request);
    return reservation ? this.outcomes.settle(reservation, outcome) : Promise.resolve();
  }

  /**
   * Remembers the peer address of every connection `server` accepts, so that a request whose
   * connection is reset before it is decided keeps its address (range bans and lists still apply);
   * warns when it listens on a Unix socket or a pipe without `trustProxy.hops`. Call it before
   * `listen`. The Nest module watches the app's HTTP server itself.
   */
  watch(server: ConnectionSource): void {
    this.engine.identity.watch(server);
  }

  /**
   * The peer address of a request's connection (`req.socket`): its `remoteAddress`, or the address
   * it was accepted with once a reset has taken it (servers given to `watch`).
   */
  peerAddress(socket: PeerSocket | undefined): string | undefined {
    return this.engine.identity.peerAddress(socket);
  }

  /** The client address of a peer and its headers (forwarded headers only from trusted proxies). */
  clientAddress(peer: string | undefined, headers: Readonly<Record<string, string | string[] | undefined>> = {}): string | null {
    return this.engine.identity.clientAddress(peer, headers);
  }
}

/**
 * Rampart without Nest: for a plain Node HTTP server, a script or a queue consumer. Options are
 * validated at once (a RateLimitConfigurationError lists every problem); call `start()` before the
 * first decision and `stop()` at shutdown.
 *
 * @example
 * const rampart = createRampart({ rules: [{ limit: 5, windowMs: 60_000 }] });
 * await rampart.start();
 * const verdict = await rampart.decide({ target: 'GET /search', address: rampart.clientAddress(req.socket.remoteAddress) });
 * if (verdict.outcome !== 'admitted') res.writeHead({ limited: 429, blocked: 429, banned: 403, unavailable: 503 }[verdict.outcome]).end();
 */
export function createRampart<C = unknown>(options: RampartOptions<C> = {}): Rampart<C> {
  return new Rampart(resolveRampartConfig(options));
}
