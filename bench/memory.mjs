// Memory held per client key by the memory store, for each algorithm.
// Run: npm run build && node --expose-gc bench/memory.mjs [keys]
import { MemoryRateLimitStore } from 'nest-rampart';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc so that the heap can be measured.');
  process.exit(2);
}
const keys = Number(process.argv[2] ?? 200_000);
const now = Date.UTC(2030, 0, 1);
const algorithms = ['sliding-window', 'fixed-window', 'token-bucket', 'gcra', 'sliding-log'];
const rows = [];
for (const algorithm of algorithms) {
  const rule = { name: 'default', algorithm, limit: 100, windowMs: 60_000, blockDurationMs: 0 };
  const store = new MemoryRateLimitStore({ maxKeys: keys });
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < keys; i++) {
    // A realistic key: rule, route and an IPv4 client address.
    store.consumeSync(`default:AppController.getHello:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, rule, now, 1);
  }
  globalThis.gc();
  const bytes = (process.memoryUsage().heapUsed - before) / keys;
  rows.push({ algorithm, keys: store.size, bytesPerKey: Math.round(bytes) });
}
console.table(rows);
console.log(JSON.stringify({ bench: 'memory-per-key', keys, results: rows }));
