/** Two app instances on one memory storage escalating one client at the same moment (see the scenario). */
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { escalationRaceSuite } from './escalation-race.scenario.js';

const shared = memoryStorage();
escalationRaceSuite('memory storage', { storage: () => shared });
