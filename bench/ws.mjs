// WebSocket gateway throughput: messages per second through the same gateway (an `echo` handler)
// with no limiter and with Rampart (memory store; every message counted against a rule that never
// denies), on the `ws` adapter and on socket.io; and, for reference, Nest's guard machinery alone
// (a global guard that returns true) on the `ws` adapter. Each case runs in a fresh child process
// (bench/ws-server.mjs); the clients run in this process over loopback.
//
// Run: npm run build && node bench/ws.mjs        (npm run bench runs it with the others)
//
// Each case runs BENCH_ROUNDS times (default 5; every other round in reverse order) and reports the
// median messages per second over its rounds; the ratios are computed from those medians.
// Environment: BENCH_DURATION_S (default 5), BENCH_WARMUP_S (1), BENCH_WS_CLIENTS (50),
// BENCH_WS_IN_FLIGHT (messages each client keeps in flight, default 8), BENCH_ROUNDS (5).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 50);
const IN_FLIGHT = Number(process.env.BENCH_WS_IN_FLIGHT ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be an integer >= 1, got ${process.env.BENCH_ROUNDS}`);

const CASES = [
  { id: 'ws-none', label: 'ws adapter, no limiter' },
  { id: 'ws-emptyguard', label: 'ws adapter, a global guard that returns true (ref.)' },
  { id: 'ws-rampart', label: 'ws adapter, Rampart (memory)' },
  { id: 'io-none', label: 'socket.io, no limiter' },
  { id: 'io-rampart', label: 'socket.io, Rampart (memory)' },
];

async function startServer(caseId) {
  const child = fork(join(ROOT, 'bench', 'ws-server.mjs'), [], {
    cwd: ROOT,
    env: { ...process.env, BENCH_CASE: caseId },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`case server ${caseId} exited with code ${code} before it was ready`);
    }),
  ]);
  return {
    port: ready.port,
    async cpuUs() {
      const reply = once(child, 'message');
      child.send({ type: 'cpu' });
      return (await reply)[0].cpuUs;
    },
    async close() {
      const exited = once(child, 'exit');
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A connected client that keeps IN_FLIGHT echo messages in flight while `running()`, counting replies. */
async function client(adapter, port, counter, running) {
  if (adapter === 'ws') {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
    await once(socket, 'open');
    const frame = JSON.stringify({ event: 'echo', data: 'x' });
    socket.on('message', () => {
      counter.replies++;
      if (running()) socket.send(frame);
    });
    return { start: () => Array.from({ length: IN_FLIGHT }, () => socket.send(frame)), close: () => socket.terminate() };
  }
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  await once(socket, 'connect');
  socket.on('echo', () => {
    counter.replies++;
    if (running()) socket.emit('echo', 'x');
  });
  return { start: () => Array.from({ length: IN_FLIGHT }, () => socket.emit('echo', 'x')), close: () => socket.disconnect() };
}

async function runCase(spec) {
  const server = await startServer(spec.id);
  const adapter = spec.id.split('-')[0];
  let phase = 'warmup';
  const counter = { replies: 0 };
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => client(adapter, server.port, counter, () => phase !== 'done')));
  try {
    for (const c of clients) c.start();
    await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000));
    const before = counter.replies;
    const cpuBefore = await server.cpuUs();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, DURATION_S * 1000));
    const replies = counter.replies - before;
    const elapsedS = (performance.now() - started) / 1000;
    const cpuUs = (await server.cpuUs()) - cpuBefore;
    phase = 'done';
    return { msgPerSec: Math.round(replies / elapsedS), serverCpuUsPerMessage: Math.round((cpuUs / Math.max(1, replies)) * 100) / 100 };
  } finally {
    phase = 'done';
    for (const c of clients) c.close();
    await server.close();
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  process.stderr.write(
    `bench ws: ${CLIENTS} clients, ${IN_FLIGHT} messages in flight each, ${DURATION_S} s per case after ${WARMUP_S} s warm-up, ${ROUNDS} rounds; ` +
      `${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}\n`,
  );
  const rows = Object.fromEntries(CASES.map((spec) => [spec.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...CASES].reverse() : CASES;
    for (const spec of order) {
      const row = await runCase(spec);
      rows[spec.id].push(row);
      process.stderr.write(`bench ws: round ${round + 1} ${spec.label}: ${row.msgPerSec} messages/s\n`);
    }
  }
  const results = {};
  for (const spec of CASES) {
    const perSec = rows[spec.id].map((r) => r.msgPerSec);
    results[spec.id] = {
      label: spec.label,
      msgPerSec: Math.round(median(perSec)),
      msgPerSecByRound: perSec,
      serverCpuUsPerMessage: median(rows[spec.id].map((r) => r.serverCpuUsPerMessage)),
    };
  }
  const ratio = (a, b) => Math.round((results[a].msgPerSec / results[b].msgPerSec) * 100) / 100;
  const ratios = {
    'ws: Rampart / no limiter': ratio('ws-rampart', 'ws-none'),
    'socket.io: Rampart / no limiter': ratio('io-rampart', 'io-none'),
    'ws: empty global guard / no limiter (ref.)': ratio('ws-emptyguard', 'ws-none'),
  };
  console.log(`\n${'case'.padEnd(56)}${'messages/s'.padStart(12)}${'server CPU µs/message'.padStart(24)}  messages/s by round`);
  for (const spec of CASES) {
    const row = results[spec.id];
    console.log(
      `${row.label.padEnd(56)}${String(row.msgPerSec).padStart(12)}${String(row.serverCpuUsPerMessage).padStart(24)}  ${row.msgPerSecByRound.join(' ')}`,
    );
  }
  for (const [name, value] of Object.entries(ratios)) console.log(`${name}: ${value}`);
  console.log(`Target: each Rampart ratio >= 0.9. JSON: ${JSON.stringify({ rounds: ROUNDS, cases: results, ratios })}`);
}

await main();
