#!/usr/bin/env node
// node bench/small-push-probe.js [--baseline DIR] [--rounds 8] [--pushes 3000] [--warmup 300]
// Small pushes (POST, then PUT ?digest= with 4 KB, 16 in flight: the benchmark's "push small blobs") against
// stowage from this checkout and, with --baseline, from another built checkout, both servers up at once and
// taking turns by round (A B, B A, ...), so an A/B shares its minutes. Per round: pushes/s and the server's
// CPU per push by thread (/proc/<pid>/task/*/stat: the main thread apart, libuv's pool and V8's helpers
// together), with the load average. At the end the CPU per push of every round, per target. docs/bench.md,
// "Small-blob pushes, eighth pass".
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { cpuDelta, cpuText, cpuTotal, threadCpu } from './probe-stats.js';
import { deterministicBytes, pushMonolithic } from './scenarios.js';
import { benchBaseDir, startStowage } from './servers.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '8' },
    pushes: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '300' },
  },
});
const ROUNDS = Number(args.rounds);
const PUSHES = Number(args.pushes);
const template = deterministicBytes('small push probe', 4096);

/** a new blob each time (fresh random head), as the benchmark pushes */
function freshBlob() {
  const content = Buffer.from(template);
  randomBytes(32).copy(content, 0);
  return { content, digest: `sha256:${createHash('sha256').update(content).digest('hex')}` };
}

async function pushMany(url, count) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < count) await pushMonolithic(url, 'bench/small', freshBlob());
    }),
  );
}

const baseDir = await benchBaseDir();
const targets = { stowage: await startStowage(baseDir) };
if (args.baseline) targets.baseline = await startStowage(baseDir, args.baseline);
try {
  for (const server of Object.values(targets)) await pushMany(server.url, Number(args.warmup));
  const perPush = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.keys(targets) : Object.keys(targets).reverse();
    for (const name of order) {
      const server = targets[name];
      const before = threadCpu(server.pid);
      const started = performance.now();
      await pushMany(server.url, PUSHES);
      const wallMs = performance.now() - started;
      const used = cpuDelta(threadCpu(server.pid), before);
      const ms = cpuTotal(used) / PUSHES;
      perPush[name].push(ms.toFixed(2));
      console.log(`round ${round} ${name}: ${((PUSHES / wallMs) * 1000).toFixed(0)} pushes/s, ${ms.toFixed(3)} CPU ms a push (${cpuText(used)}), load ${os.loadavg()[0].toFixed(1)}`);
    }
  }
  for (const [name, values] of Object.entries(perPush)) {
    const mean = values.reduce((sum, v) => sum + Number(v), 0) / values.length;
    console.log(`${name}: ${values.join(' / ')} CPU ms a push, mean ${mean.toFixed(2)}`);
  }
} finally {
  for (const server of Object.values(targets)) await server.close();
}
