#!/usr/bin/env node
// node bench/small-push-probe.js [--baseline DIR] [--rounds 8] [--pushes 3000] [--warmup 300] [--fresh storage|process|repository] [--parts 4]
//   [--node-flags='--trace-opt'] [--flags-for stowage|baseline] [--server-log FILE]
// Small pushes (POST, then PUT ?digest= with 4 KB, 16 in flight: the benchmark's "push small blobs") against
// stowage from this checkout and, with --baseline, from another built checkout, both servers up at once and
// taking turns by round (A B, B A, ...), so an A/B shares its minutes. Per round: pushes/s and the server's
// CPU per push by thread (/proc/<pid>/task/*/stat: the main thread apart, libuv's pool and V8's helpers
// together), with the load average, and the CPU per push of each of --parts equal parts of the round (where in
// a round the cost lies). At the end the CPU per push of every round, per target. docs/bench.md,
// "Small-blob pushes, eighth pass".
// --fresh measures what a first round pays (the bench's first 2,000 pushes), with no warm-up: `storage`
// starts every round on a new server and an empty storage folder (all cold, as the bench's `--only` run);
// `process` on a new server over the storage the target's previous round filled (folders there, code cold);
// `repository` on the same server into a new repository (code warm, blob prefix folders there, the
// repository's folders not). "Small-blob pushes, eleventh pass".
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuDelta, cpuText, cpuTotal, threadCpu } from './probe-stats.js';
import { deterministicBytes, pushMonolithic } from './scenarios.js';
import { benchBaseDir, freePort, PROJECT_ROOT, writeStowageConfig } from './servers.js';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '8' },
    pushes: { type: 'string', default: '3000' },
    warmup: { type: 'string' },
    fresh: { type: 'string' },
    parts: { type: 'string', default: '4' },
    // node options for the servers (e.g. `--trace-opt`; only for the target --flags-for names when given),
    // and a file the servers' output goes to
    'node-flags': { type: 'string' },
    'flags-for': { type: 'string' },
    'server-log': { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const PUSHES = Number(args.pushes);
const PARTS = Number(args.parts);
const FRESH = args.fresh;
if (FRESH !== undefined && !['storage', 'process', 'repository'].includes(FRESH)) throw new Error(`--fresh: storage, process or repository, not ${FRESH}`);
const WARMUP = Number(args.warmup ?? (FRESH ? 0 : 300));
const template = deterministicBytes('small push probe', 4096);

/** a new blob each time (fresh random head), as the benchmark pushes */
function freshBlob() {
  const content = Buffer.from(template);
  randomBytes(32).copy(content, 0);
  return { content, digest: `sha256:${createHash('sha256').update(content).digest('hex')}` };
}

/** `count` pushes into `repository`, 16 in flight; `atPart(i)` after each (count / PARTS)-th push has ended */
async function pushMany(url, count, repository = 'bench/small', atPart = () => undefined) {
  let next = 0;
  let done = 0;
  const partSize = Math.ceil(count / PARTS);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next++ < count) {
        await pushMonolithic(url, repository, freshBlob());
        if (++done % partSize === 0 || done === count) atPart();
      }
    }),
  );
}

const baseDir = await benchBaseDir();
const checkouts = { stowage: undefined, ...(args.baseline ? { baseline: path.resolve(args.baseline) } : {}) };
const targets = {};
for (const name of Object.keys(checkouts)) {
  const root = path.join(await mkdtemp(path.join(baseDir, 'storage-')), 'storage');
  await mkdir(root);
  targets[name] = await serve(checkouts[name] ?? PROJECT_ROOT, root, name);
}

/** stowage from `checkout` serving `root` (an existing storage folder), as bench/servers.js starts it */
async function serve(checkout, root, name) {
  const log = args['server-log'] ? openSync(args['server-log'], 'a') : 'ignore';
  const workdir = await mkdtemp(path.join(baseDir, 'serve-'));
  const port = await freePort();
  const config = await writeStowageConfig(workdir, root, port);
  // the bin's wrapper, or with --node-flags (V8's flags are refused in NODE_OPTIONS) node itself with the
  // wrapper's settings, for every target when any has flags (so that only the flags differ)
  const env = { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: workdir, NODE_ENV: 'production' };
  const flags = args['node-flags'] && (!args['flags-for'] || args['flags-for'] === name) ? args['node-flags'].trim().split(/\s+/) : [];
  const child = args['node-flags']
    ? spawn(process.execPath, ['--max-semi-space-size=4', ...flags, path.join(checkout, 'bin', 'stowage.js'), 'serve', '--config', config], {
        env: { ...env, MALLOC_ARENA_MAX: '2', UV_THREADPOOL_SIZE: '16' },
        stdio: ['ignore', log, log],
      })
    : spawn(path.join(checkout, 'bin', 'stowage'), ['serve', '--config', config], { env, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stowage from ${checkout} exited at its start`);
    try {
      await (await fetch(`${url}/v2/`)).arrayBuffer();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    pid: child.pid,
    storageRoot: root,
    async close() {
      child.kill('SIGTERM');
      await once(child, 'exit');
      await rm(workdir, { recursive: true, force: true });
    },
  };
}

/** a new server for `name`: on a new empty storage folder, or (`keepStorage`) on the one the old server used */
async function restart(name, keepStorage) {
  const old = targets[name];
  await old.close();
  let root = old.storageRoot;
  if (!keepStorage) {
    // the old tree stays until the end: freeing its inodes now would make the next round's allocations step
    // over them (ext4 without a journal, "Small-blob pushes, tenth pass"), a cost of the probe, not of a push
    root = path.join(await mkdtemp(path.join(baseDir, 'storage-')), 'storage');
    await mkdir(root);
  }
  targets[name] = await serve(checkouts[name] ?? PROJECT_ROOT, root, name);
}

try {
  for (const server of Object.values(targets)) if (WARMUP > 0) await pushMany(server.url, WARMUP);
  const perPush = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.keys(targets) : Object.keys(targets).reverse();
    for (const name of order) {
      if (FRESH === 'storage' && round > 0) await restart(name, false);
      if (FRESH === 'process' && round > 0) await restart(name, true);
      const server = targets[name];
      const repository = FRESH === 'repository' ? `bench/small${round}` : 'bench/small';
      const before = threadCpu(server.pid);
      const parts = [];
      let partFrom = before;
      const started = performance.now();
      await pushMany(server.url, PUSHES, repository, () => {
        const now = threadCpu(server.pid);
        parts.push(cpuTotal(cpuDelta(now, partFrom)) / (PUSHES / PARTS));
        partFrom = now;
      });
      const wallMs = performance.now() - started;
      const used = cpuDelta(threadCpu(server.pid), before);
      const ms = cpuTotal(used) / PUSHES;
      perPush[name].push(ms.toFixed(2));
      console.log(
        `round ${round} ${name}: ${((PUSHES / wallMs) * 1000).toFixed(0)} pushes/s, ${ms.toFixed(3)} CPU ms a push (${cpuText(used)}; by part ${parts.map((p) => p.toFixed(2)).join(' / ')}), load ${os.loadavg()[0].toFixed(1)}`,
      );
    }
  }
  for (const [name, values] of Object.entries(perPush)) {
    const mean = values.reduce((sum, v) => sum + Number(v), 0) / values.length;
    console.log(`${name}: ${values.join(' / ')} CPU ms a push, mean ${mean.toFixed(2)}`);
  }
} finally {
  for (const server of Object.values(targets)) await server.close();
  await rm(baseDir, { recursive: true, force: true });
}
