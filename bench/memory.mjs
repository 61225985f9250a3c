// Memory held by the memory store: per client key for each algorithm, then the heap after 1,000,000
// distinct clients with the default `maxKeys` (100,000: must stay bounded) and with `maxKeys: 1_000_000`.
// Run: npm run build && node --expose-gc bench/memory.mjs [keys per algorithm] [distinct clients]
import { MemoryRateLimitStore } from 'nest-rampart';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc so that the heap can be measured.');
  process.exit(2);
}
const keys = Number(process.argv[2] ?? 200_000);
const clients = Number(process.argv[3] ?? 1_000_000);
const now = Date.UTC(2030, 0, 1);
const MiB = 2 ** 20;
// A realistic key: rule, route and an IPv4 client address.
const keyOf = (i) => `default:AppController.getHello:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function heapUsed() {
  // Several full collections: one may leave large stores of an earlier measurement half-collected.
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// ---- bytes per key, each algorithm ------------------------------------------------------------------

const algorithms = ['sliding-window', 'fixed-window', 'token-bucket', 'gcra', 'sliding-log'];
/** Measured in a function of its own, so that its store is unreachable once it returns. */
function bytesPerKey(algorithm) {
  const rule = { name: 'default', algorithm, limit: 100, windowMs: 60_000, blockDurationMs: 0 };
  const store = new MemoryRateLimitStore({ maxKeys: keys });
  const before = heapUsed();
  for (let i = 0; i < keys; i++) store.consumeSync(keyOf(i), rule, now, 1);
  const bytes = (heapUsed() - before) / keys;
  return { algorithm, keys: store.size, bytesPerKey: Math.round(bytes) };
}
const rows = algorithms.map(bytesPerKey);
console.table(rows);
console.log(JSON.stringify({ bench: 'memory-per-key', keys, results: rows }));

// ---- 1,000,000 distinct clients ---------------------------------------------------------------------

const rule = { name: 'default', algorithm: 'sliding-window', limit: 100, windowMs: 60_000, blockDurationMs: 0 };
const checkpoints = [100_000, 250_000, 500_000, 750_000, clients].filter((n, i, all) => n <= clients && all.indexOf(n) === i);
const runs = [];
const alive = []; // keeps the store reachable until it has been measured
for (const maxKeys of [undefined, clients]) {
  const store = new MemoryRateLimitStore(maxKeys === undefined ? {} : { maxKeys });
  alive.push(store);
  const before = heapUsed();
  const heapMiB = {};
  const started = process.hrtime.bigint();
  for (let i = 0, next = 0; i < clients; i++) {
    // One request per client, a millisecond apart: nothing expires, so only maxKeys bounds the store.
    store.consumeSync(keyOf(i), rule, now + Math.floor(i / 1000), 1);
    if (i + 1 === checkpoints[next]) {
      heapMiB[checkpoints[next]] = Number(((heapUsed() - before) / MiB).toFixed(1));
      next++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const heldBytes = heapUsed() - before;
  const held = alive.pop().size; // then unreachable: the next run starts from the same heap
  runs.push({
    maxKeys: maxKeys ?? 'default (100,000)',
    clients,
    keysHeld: held,
    heapMiB: Number((heldBytes / MiB).toFixed(1)),
    bytesPerKeyHeld: Math.round(heldBytes / held),
    seconds: Number(seconds.toFixed(1)),
    decisionsPerSecond: Math.round(clients / seconds),
    heapMiBAfter: heapMiB,
  });
}
console.log(`\nHeap held by the memory store after ${clients.toLocaleString('en')} distinct clients (one request each, sliding window):`);
console.table(
  runs.map(({ heapMiBAfter, ...row }) => ({ ...row, ...Object.fromEntries(Object.entries(heapMiBAfter).map(([n, v]) => [`MiB @${Number(n) / 1000}k`, v])) })),
);
const bounded = runs[0];
const growthAfterCap = bounded.heapMiBAfter[clients] - bounded.heapMiBAfter[100_000];
const isBounded = bounded.keysHeld <= 100_000 && growthAfterCap < 0.1 * bounded.heapMiBAfter[100_000] + 1;
console.log(
  `[${isBounded ? 'MET' : 'NOT MET'}] default maxKeys keeps memory bounded: ${bounded.keysHeld.toLocaleString('en')} keys held, ` +
    `${bounded.heapMiBAfter[100_000]} MiB after 100k clients, ${bounded.heapMiBAfter[clients]} MiB after ${clients.toLocaleString('en')}`,
);
console.log(JSON.stringify({ bench: 'memory-distinct-clients', clients, algorithm: rule.algorithm, bounded: isBounded, results: runs }));
