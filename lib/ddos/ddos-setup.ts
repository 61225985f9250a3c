import type { RampartConfig } from '../engine/rampart-config.js';
import type { EventPublisher } from '../events/event-publisher.js';
import type { BanSync, Bounded } from '../protection/ban-sync.js';
import type { StoreHealth } from '../protection/store-health.js';
import { DdosBlocker } from './ddos-blocker.js';
import { DdosDetector } from './ddos-detector.js';

/** The DDoS detection of a Rampart (see the `ddos` option); undefined when it is off. */
export function ddosDetector<C>(
  config: RampartConfig<C>,
  parts: { readonly events: EventPublisher; readonly bans: BanSync; readonly health: StoreHealth; readonly bounded: Bounded },
): DdosDetector<C> | undefined {
  const { ddos, clock, logger, storage, responseOf } = config;
  if (!ddos) return undefined;
  const { events, bans, health, bounded } = parts;
  const blocker = ddos.autoBlock ? new DdosBlocker({ bans: storage.bans, cache: bans, events, logger, bounded, health, shadow: config.shadow }) : undefined;
  return new DdosDetector(ddos, { clock, events, logger, ...(blocker ? { blocker } : {}), ...(responseOf ? { responseOf } : {}) });
}
