// What one Prometheus scrape of Rampart's metrics costs: the time `registry.metrics()` takes and the
// size of the exposition, with 100 rule names (the label bound), every outcome, and 0, 10 000 or
// 50 000 bans held in memory (the active-bans gauge walks them at each scrape).
// Run: npm run build && node bench/scrape.mjs  (BENCH_SCRAPES=200 scrapes per case)
import { performance } from 'node:perf_hooks';
import { createRampart } from 'nest-rampart';
import { registerRampartMetrics } from 'nest-rampart/metrics';
import { Registry } from 'prom-client';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 200);
const RULES = 100;
const silent = { log() {}, warn() {}, error() {} };

async function scenario(bans) {
  // Rule i counts only the requests whose context names it: each rule gets its own series.
  const rules = Array.from({ length: RULES }, (_, i) => ({ name: `rule-${i}`, limit: 2, windowMs: 60_000, skipIf: (context) => context.rule !== i }));
  const rampart = createRampart({ logger: silent, logging: false, rules, escalation: false, maxCachedBans: 50_000 });
  await rampart.start();
  const registry = new Registry();
  registerRampartMetrics(rampart, { registry });
  // Every rule admits and refuses, over three protocols.
  for (let i = 0; i < RULES; i++)
    for (const protocol of ['http', 'ws', 'rpc'])
      for (let n = 0; n < 3; n++) await rampart.decide({ target: `t${i}`, address: '10.0.0.1', protocol, context: { rule: i } });
  for (let i = 0; i < bans; i++) await rampart.service.ban({ type: 'key', key: `id:user-${i}` }, 'permanent', undefined, 'bench', 'bench');
  const text = await registry.metrics();
  for (let i = 0; i < 20; i++) await registry.metrics(); // warm-up
  const startedAt = performance.now();
  for (let i = 0; i < SCRAPES; i++) await registry.metrics();
  const ms = (performance.now() - startedAt) / SCRAPES;
  await rampart.stop();
  return {
    bans,
    msPerScrape: Math.round(ms * 100) / 100,
    bytes: Buffer.byteLength(text),
    series: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
  };
}

for (const bans of [0, 10_000, 50_000]) console.log(JSON.stringify(await scenario(bans)));
