// Ban state at scale: 1,000,000 distinct automatically blocked keys (a login rule keyed by user name
// under a user-name spray), on the memory store and on MongoDB (MONGO_URL, or the test harness's
// mongo-java-server stand-in). For each store, one instance (BanSync) is measured: the heap it holds
// once it has loaded the bans, the cost of its first (full) load, of a poll while 1,100 new blocks a
// second keep arriving, and of a later full reload; then the cost of checking a client. Then the cost
// of matching an address against 10 and 10,000 CIDR entries (bans and lists).
//
// Run: npm run build && node --expose-gc bench/ban-state.mjs [blocked keys]
// Environment: BENCH_BANS_STORES (memory,mongo), BENCH_BANS_POLLS (5), BENCH_BANS_BUDGET_S (600: a full load that takes
// longer is stopped and its cost extrapolated from the pages read), BENCH_DIST (the build to measure,
// default dist/).
import { existsSync, mkdirSync, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = resolve(ROOT, process.env.BENCH_DIST ?? 'dist');
const load = (path) => import(pathToFileURL(join(DIST, path)).href);

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc so that the heap can be measured.');
  process.exit(2);
}
const KEYS = Number(process.argv[2] ?? 1_000_000);
const STORES = (process.env.BENCH_BANS_STORES ?? 'memory,mongo').split(',').filter(Boolean);
const BUDGET_MS = Number(process.env.BENCH_BANS_BUDGET_S ?? 600) * 1000;
const OPERATOR_BANS = 100;
/** New automatic blocks a second while the polls are measured (1M in 15 minutes). */
const RATE = 1_100;
const POLLS = Number(process.env.BENCH_BANS_POLLS ?? 5);
/**
 * Polls before those measured. None are needed: the blocks stored before the first load already
 * arrive at RATE a second up to its time, so the first poll re-reads a full overlap.
 */
const WARMUP_POLLS = 0;
const MiB = 2 ** 20;
const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 1);

const { BanSync, FULL_RELOAD_INTERVAL_MS } = await load('protection/ban-sync.js');
const { memoryStorage } = await load('storage/memory-storage.js');
const { ProtectionCache } = await load('protection/protection-cache.js');
const { parseBareAddress } = await load('core/ip/client-address.js');

/** The heap and the array buffers (the cache's filter is one) after full collections. */
function heapUsed() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
const userKey = (i) => `login:user-${i.toString(36).padStart(6, '0')}@example.com`;

/**
 * The storage with its ban reads counted. Past `stats.deadline` a listing is cut short (it then
 * ends as if the store held no more), so that a load too slow to finish still leaves the instance
 * polling; its figures are then those of the part read, and extrapolated.
 */
function counted(storage) {
  const stats = { listCalls: 0, listed: 0, changedCalls: 0, changed: 0, getCalls: 0, deadline: Infinity, cut: false };
  const bans = storage.bans;
  const wrapped = Object.create(bans);
  wrapped.list = async (...args) => {
    if (Date.now() > stats.deadline) {
      stats.cut = true;
      return { items: [] };
    }
    const page = await bans.list(...args);
    stats.listCalls++;
    stats.listed += page.items.length;
    return page;
  };
  wrapped.changedSince = async (...args) => {
    const items = await bans.changedSince(...args);
    stats.changedCalls++;
    stats.changed += items.length;
    return items;
  };
  wrapped.get = async (...args) => {
    stats.getCalls++;
    return bans.get(...args);
  };
  if (typeof bans.streamActive === 'function') {
    wrapped.streamActive = async function* (...args) {
      for await (const batch of bans.streamActive(...args)) {
        if (Date.now() > stats.deadline) {
          stats.cut = true;
          return;
        }
        stats.listCalls++;
        stats.listed += batch.length;
        yield batch;
      }
    };
  } else {
    wrapped.streamActive = undefined;
  }
  return { storage: { ...storage, bans: wrapped, accessList: storage.accessList }, stats };
}

/** Runs a load (a first load or a full reload) within the budget: its time, what it read, and whether it was cut short. */
async function timedLoad(sync, stats) {
  const listed = stats.listed;
  const calls = stats.listCalls;
  stats.deadline = Date.now() + BUDGET_MS;
  stats.cut = false;
  const started = process.hrtime.bigint();
  await sync.syncNow();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  stats.deadline = Infinity;
  const read = stats.listed - listed;
  const result = { ms: Number(elapsed.toFixed(1)), calls: stats.listCalls - calls, listed: read, complete: !stats.cut };
  // Each page of a list() costs O(records) on these stores: a linear extrapolation is a lower bound.
  if (stats.cut) result.extrapolatedMs = read === 0 ? null : Math.round((elapsed * (KEYS + OPERATOR_BANS)) / read);
  return result;
}

const autoBan = (key, nowMs) => ({
  target: { type: 'key', key },
  kind: 'temporary',
  reason: "3 violations of rate limits (last: 'login')",
  source: 'auto',
  createdBy: 'rampart',
  expiresAtMs: nowMs + HOUR,
  violationCount: 3,
});
const operatorBan = (i) => ({
  target: { type: 'key', key: `login:operator-banned-${i}` },
  kind: 'permanent',
  reason: 'fraud',
  source: 'admin',
  createdBy: 'alice',
  violationCount: 0,
});

/** The stored document of an automatic block, as MongoBanStore writes it (bulk-inserted: 1M upserts would take long). */
const autoDoc = (key, nowMs) => ({
  _id: `key:${key}`,
  targetType: 'key',
  target: key,
  kind: 'temporary',
  reason: "3 violations of rate limits (last: 'login')",
  source: 'auto',
  createdBy: 'rampart',
  createdAtMs: nowMs,
  expiresAtMs: nowMs + HOUR,
  violationCount: 3,
  blockCount: 1,
  updatedAtMs: nowMs,
  version: 1,
  purgeAt: new Date(nowMs + HOUR + 30 * 24 * HOUR),
});

async function fill(kind, storage, from, count, nowOf) {
  if (kind === 'memory') {
    for (let i = from; i < from + count; i++) await storage.bans.put(autoBan(userKey(i), nowOf(i)), nowOf(i));
    return;
  }
  const collection = storage.bans.collection;
  for (let i = from; i < from + count; i += 10_000) {
    const docs = [];
    for (let j = i; j < Math.min(i + 10_000, from + count); j++) docs.push(autoDoc(userKey(j), nowOf(j)));
    await collection.insertMany(docs, { ordered: false });
  }
}

async function measureStore(kind) {
  let storage;
  let stop = async () => {};
  if (kind === 'memory') {
    storage = memoryStorage({ bans: { maxRecords: KEYS * 2 } });
  } else {
    const mongo = await startMongo();
    if (!mongo) return { store: kind, skipped: 'no MONGO_URL and the stand-in could not start' };
    const { mongoStorage } = await load('storage/mongo/index.js');
    storage = mongoStorage({ uri: mongo.url, connectOptions: { dbName: `bench_bans_${process.pid}` }, sweeper: false });
    await storage.init();
    stop = async () => {
      await storage.connection.dropDatabase().catch(() => undefined);
      await storage.close();
      await mongo.stop();
    };
  }
  try {
    let nowMs = T0;
    const clock = { now: () => nowMs };
    // 1M blocks over the 15 minutes before now, then the operators' bans.
    const spreadMs = 15 * 60_000;
    const startedFill = Date.now();
    await fill(kind, storage, 0, KEYS, (i) => T0 - spreadMs + Math.floor((i * spreadMs) / KEYS));
    for (let i = 0; i < OPERATOR_BANS; i++) await storage.bans.put(operatorBan(i), T0 - spreadMs);
    process.stderr.write(`bench:bans: ${kind}: ${KEYS.toLocaleString('en')} blocks stored in ${((Date.now() - startedFill) / 1000).toFixed(0)} s\n`);

    const { storage: watched, stats } = counted(storage);
    const bounded = (call) => call();
    let sync = new BanSync(watched, clock, bounded);
    globalThis.benchInstance = sync;
    const firstLoad = await timedLoad(sync, stats);

    // Polls while RATE new blocks a second arrive.
    const polls = [];
    let next = KEYS;
    for (let p = 0; p < POLLS + WARMUP_POLLS; p++) {
      // Stamped across the second, as blocks arrive (a poll pages on by time: records sharing one
      // millisecond beyond a page could not be paged through).
      const second = nowMs;
      await fill(kind, storage, next, RATE, (i) => second + Math.floor(((i - next) * 1_000) / RATE));
      next += RATE;
      nowMs += 1_000;
      const read = stats.changed;
      const started = process.hrtime.bigint();
      await sync.syncNow();
      if (p >= WARMUP_POLLS) polls.push({ ms: Number(process.hrtime.bigint() - started) / 1e6, read: stats.changed - read });
    }
    polls.sort((a, b) => a.ms - b.ms);
    const poll = polls[polls.length >> 1];

    // A later full reload (every FULL_RELOAD_INTERVAL_MS), with a budget.
    nowMs += FULL_RELOAD_INTERVAL_MS;
    const reload = await timedLoad(sync, stats);

    // Checks: a recent block (cached), an old block (the first written), an operator ban, an unknown client.
    const checks = {};
    for (const [name, key] of [
      ['recent block', userKey(next - 1)],
      ['oldest block', userKey(0)],
      ['operator ban', 'login:operator-banned-0'],
      ['unknown client', 'login:nobody@example.com'],
    ]) {
      const gets = stats.getCalls;
      const first = await sync.check(key, null, nowMs);
      const n = 100_000;
      let status;
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const verdict = sync.check(key, null, nowMs);
        status = typeof verdict.then === 'function' ? (await verdict).status : verdict.status;
      }
      checks[name] = { first: first.status, status, nsPerCheck: Math.round(Number(process.hrtime.bigint() - t) / n), storeReads: stats.getCalls - gets };
    }
    // The heap the instance holds: measured by letting it go (the store's own records stay); a
    // WeakRef tells whether it really went.
    const sizesAtEnd = sync.sizes ?? sync.cache.sizes;
    const gone = new WeakRef(sync);
    sync = undefined;
    const withInstance = heapUsed();
    await dropInstance();
    const heldBytes = withInstance - heapUsed();
    const heldMeasured = gone.deref() === undefined;
    // A load cut short held only part of the bans: scaled to all of them by what it held.
    const held = sizesAtEnd.keyBans;
    const scale = firstLoad.complete && reload.complete ? 1 : (KEYS + OPERATOR_BANS + (POLLS + WARMUP_POLLS) * RATE) / Math.max(1, held);
    return {
      store: kind,
      blockedKeys: KEYS,
      operatorBans: OPERATOR_BANS,
      heldMiB: heldMeasured ? Number(((heldBytes * scale) / MiB).toFixed(1)) : 'n/a (the instance stayed reachable)',
      ...(scale === 1 ? {} : { heldMiBMeasured: Number((heldBytes / MiB).toFixed(1)), heldExtrapolatedFrom: held }),
      bytesPerKeyBanHeld: Math.round(heldBytes / Math.max(1, held)),
      cached: sizesAtEnd,
      firstLoad,
      poll: { medianMs: Number(poll.ms.toFixed(1)), recordsRead: poll.read, newPerSecond: RATE },
      fullReload: reload,
      checks,
    };
  } finally {
    await stop();
  }
}

/** Lets the instance go: the last reference is the global one (the caller's variable is cleared first). */
async function dropInstance() {
  globalThis.benchInstance = undefined;
  await new Promise((resolve) => setImmediate(resolve));
}

async function startMongo() {
  if (process.env.MONGO_URL) return { url: process.env.MONGO_URL, stop: async () => {} };
  try {
    const { tsImport } = await import('tsx/esm/api');
    const { startMongoStandIn } = await tsImport(pathToFileURL(join(ROOT, 'test', 'harness', 'mongo-server.ts')).href, import.meta.url);
    const logPath = join(ROOT, '.cache', 'mongo-stand-in-bench-bans.log');
    mkdirSync(dirname(logPath), { recursive: true });
    const log = createWriteStream(logPath, { flags: 'w' });
    const server = await startMongoStandIn({
      root: ROOT,
      jvmArgs: ['-Xms1g', '-Xmx4g', '-XX:+UseParallelGC'],
      onStderr: (line) => log.write(`${line}\n`),
    });
    return {
      url: server.url,
      stop: async () => {
        await server.stop();
        log.end();
      },
    };
  } catch (error) {
    process.stderr.write(`bench:bans: MongoDB stand-in could not start: ${error instanceof Error ? error.message.split('\n')[0] : error}\n`);
    return undefined;
  }
}

// ---- CIDR matching ----------------------------------------------------------------------------

function cidrBench(entries) {
  const cache = new ProtectionCache();
  const ban = (cidr, i) => ({
    id: `cidr:${cidr}`,
    target: { type: 'cidr', cidr },
    kind: 'permanent',
    reason: 'bench',
    source: 'admin',
    createdBy: 'ops',
    createdAtMs: T0,
    violationCount: 0,
    blockCount: 0,
    updatedAtMs: T0 + i,
  });
  // Half IPv4 /24 networks in 100.64.0.0/10, half IPv6 /48 networks in 2001:db8::/32; a tenth of
  // them deny-list entries rather than bans.
  for (let i = 0; i < entries; i++) {
    const cidr = i % 2 === 0 ? `100.${64 + ((i >> 9) & 63)}.${(i >> 1) & 255}.0/24` : `2001:db8:${(i >> 1).toString(16)}::/48`;
    if (i % 10 === 9) cache.applyEntry({ kind: 'deny', cidr, createdBy: 'ops', createdAtMs: T0, updatedAtMs: T0 }, T0);
    else cache.applyBan(ban(cidr, i), T0);
  }
  // Addresses outside every range (the common case: a client that is not banned), both families.
  const addresses = Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? `198.18.${(i >> 8) & 255}.${i & 255}` : `2001:db9:${i.toString(16)}::1`));
  const run = (n) => {
    let none = 0;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (cache.check('k', addresses[i % addresses.length], T0).status === 'none') none++;
    return { ns: Number(process.hrtime.bigint() - t) / n, none };
  };
  run(20_000);
  const n = entries > 1_000 ? 20_000 : 200_000;
  const { ns, none } = run(n);
  if (none !== n) throw new Error('bench:bans: an address outside every range was matched');
  const hit = cache.check('k', entries > 1 ? '2001:db8:0:1::7' : '100.64.0.9', T0).status;
  return { entries, nsPerCheck: Math.round(ns), hit };
}

/** The address parse every check with ranges makes (matching costs the difference). */
function parseBaseline() {
  const addresses = Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? `198.18.${(i >> 8) & 255}.${i & 255}` : `2001:db9:${i.toString(16)}::1`));
  let parsed = 0;
  const run = (n) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (parseBareAddress(addresses[i % addresses.length]) !== null) parsed++;
    return Number(process.hrtime.bigint() - t) / n;
  };
  run(20_000);
  return { entries: 'parse alone', nsPerCheck: Math.round(run(200_000)), parsed };
}

// ---- main ---------------------------------------------------------------------------------------

const results = [];
for (const kind of STORES) {
  if (kind === 'mongo' && !process.env.MONGO_URL && !existsSync(join(ROOT, '.cache', 'mongo-java-server')) && !existsSync(join(ROOT, 'test', 'mongo-server')))
    continue;
  results.push(await measureStore(kind));
}
console.log(`\nBan state of one instance with ${KEYS.toLocaleString('en')} automatically blocked keys and ${OPERATOR_BANS} operator bans (build: ${DIST}):`);
console.table(
  Object.fromEntries(
    results.map((r) => [
      r.store,
      r.skipped
        ? { skipped: r.skipped }
        : {
            'heap held MiB':
              r.heldMiBMeasured === undefined ? r.heldMiB : `≈ ${r.heldMiB} (${r.heldMiBMeasured} for ${r.heldExtrapolatedFrom.toLocaleString('en')} read)`,
            'key bans cached': r.cached ? r.cached.keyBans : '?',
            'first load ms': r.firstLoad.complete ? r.firstLoad.ms : `cut at ${r.firstLoad.ms} (≥ ${r.firstLoad.extrapolatedMs} for all)`,
            'poll ms (median)': r.poll.medianMs,
            'records read per poll': r.poll.recordsRead,
            'full reload ms': r.fullReload.complete ? r.fullReload.ms : `cut at ${r.fullReload.ms} (≥ ${r.fullReload.extrapolatedMs} for all)`,
          },
    ]),
  ),
);
for (const r of results) if (!r.skipped) console.log(`${r.store}: checks`, r.checks);
const cidr = [10, 10_000].map(cidrBench);
cidr.push(parseBaseline());
console.log('\nMatching a client address against CIDR bans and deny-list entries (address outside every range):');
console.table(
  Object.fromEntries(
    cidr.map((c) => [typeof c.entries === 'number' ? `${c.entries.toLocaleString('en')} entries` : c.entries, { 'ns per check': c.nsPerCheck }]),
  ),
);
console.log(JSON.stringify({ bench: 'ban-state', blockedKeys: KEYS, dist: DIST, stores: results, cidr }));
process.exit(0);
