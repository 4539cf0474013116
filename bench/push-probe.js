#!/usr/bin/env node
// node bench/push-probe.js [--targets stowage,distribution,baseline] [--baseline DIR] [--mode chunked|monolithic]
//   [--size-mb 256] [--chunk-mb 8] [--rounds 4] [--pushes 5] [--vmstat] [--patches] [--pull]
// Large pushes one after another against one server per target (started as the benchmark starts them,
// bench/servers.js), the targets taking turns by round (`--pushes` each per round), so an A/B shares its
// minutes. Per push: the wall time, the server's CPU by thread name (/proc/<pid>/task/*/stat), with `--vmstat`
// the /proc/vmstat counters that moved, with `--patches` each request's time (the slowest PATCH, the closing
// PUT), with `--pull` the first GET of the blob right after its push (wall and CPU). At the end, per target:
// mean, p50 and max wall time and CPU. Where a chunked push's time goes and what
// its stalls are: docs/bench.md, "Large uploads, seventh pass".
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { cpuDelta, cpuText, cpuTotal, threadCpu, vmDelta, vmstat } from './probe-stats.js';
import { deterministicBytes } from './scenarios.js';
import { benchBaseDir, startDistribution, startStowage } from './servers.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'stowage' },
    baseline: { type: 'string' },
    mode: { type: 'string', default: 'chunked' },
    'size-mb': { type: 'string', default: '256' },
    'chunk-mb': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '4' },
    pushes: { type: 'string', default: '5' },
    vmstat: { type: 'boolean', default: false },
    patches: { type: 'boolean', default: false },
    pull: { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const SIZE = Number(args['size-mb']) * MiB;
const CHUNK = Number(args['chunk-mb']) * MiB;
const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 4 });

async function call(url, options) {
  const response = await request(url, { ...options, dispatcher });
  await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
  if (!options.expect.includes(response.statusCode)) throw new Error(`${options.method} ${url}: HTTP ${response.statusCode}`);
  return response;
}
const locationOf = (base, response) => new URL([response.headers.location].flat()[0], base);

/** One push; answers each request's milliseconds. */
async function push(base, content, digest) {
  const times = [];
  let t = performance.now();
  let target = locationOf(base, await call(`${base}/v2/probe/push/blobs/uploads/`, { method: 'POST', expect: [202] }));
  times.push(performance.now() - t);
  if (args.mode === 'monolithic') {
    target.searchParams.set('digest', digest);
    t = performance.now();
    await call(target.toString(), { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream' }, expect: [201] });
    times.push(performance.now() - t);
    return times;
  }
  for (let start = 0; start < content.length; start += CHUNK) {
    const chunk = content.subarray(start, Math.min(start + CHUNK, content.length));
    t = performance.now();
    const response = await call(target.toString(), {
      method: 'PATCH',
      body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` },
      expect: [202],
    });
    times.push(performance.now() - t);
    target = locationOf(base, response);
  }
  target.searchParams.set('digest', digest);
  t = performance.now();
  await call(target.toString(), { method: 'PUT', expect: [201] });
  times.push(performance.now() - t);
  return times;
}

const targets = args.targets.split(',');
const baseDir = await benchBaseDir();
const starters = {
  stowage: () => startStowage(baseDir),
  baseline: () => startStowage(baseDir, path.resolve(args.baseline)),
  distribution: () => startDistribution(baseDir),
};
const servers = {};
for (const name of targets) {
  servers[name] = await starters[name]();
  console.log(`${name}: pid ${servers[name].pid}`);
}
const template = deterministicBytes('push-probe', SIZE);
const results = Object.fromEntries(targets.map((name) => [name, []]));
const fmt = (n) => n.toFixed(0);
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const name of targets) {
      const server = servers[name];
      for (let i = 0; i < Number(args.pushes); i++) {
        const content = Buffer.from(template);
        randomBytes(32).copy(content, 0);
        const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
        const cpu0 = threadCpu(server.pid);
        const vm0 = vmstat();
        const t0 = performance.now();
        const times = await push(server.url, content, digest);
        const wall = performance.now() - t0;
        const cpu = cpuDelta(threadCpu(server.pid), cpu0);
        const vm = vmDelta(vmstat(), vm0);
        const result = { wall, cpu: cpuTotal(cpu) };
        results[name].push(result);
        const threads = cpuText(cpu);
        let line = `${name} r${round} #${i}: ${fmt(wall)} ms, cpu ${cpuTotal(cpu)} ms (${threads}) load ${os.loadavg()[0].toFixed(2)}`;
        if (args.patches) {
          const patches = times.slice(1, -1).sort((a, b) => a - b);
          line += `\n    post ${fmt(times[0])}, patch p50 ${fmt(patches[patches.length >> 1] ?? 0)} max ${fmt(patches.at(-1) ?? 0)} (at ${times.indexOf(patches.at(-1)) - 1}), put ${fmt(times.at(-1))}`;
        }
        if (args.vmstat) line += `\n    vmstat ${JSON.stringify(vm)}`;
        if (args.pull) {
          const pullCpu0 = cpuTotal(threadCpu(server.pid));
          const p0 = performance.now();
          const response = await request(`${server.url}/v2/probe/push/blobs/${digest}`, { dispatcher });
          let bytes = 0;
          for await (const piece of response.body) bytes += piece.length;
          if (bytes !== content.length) throw new Error(`pull: ${bytes} bytes`);
          result.pull = performance.now() - p0;
          result.pullCpu = cpuTotal(threadCpu(server.pid)) - pullCpu0;
          line += `\n    pull ${fmt(result.pull)} ms, cpu ${result.pullCpu} ms`;
        }
        console.log(line);
      }
    }
  }
} finally {
  for (const server of Object.values(servers)) await server.close();
  await rm(baseDir, { recursive: true, force: true });
  await dispatcher.close();
}
for (const [name, list] of Object.entries(results)) {
  const walls = list.map((r) => r.wall).sort((a, b) => a - b);
  const cpus = list.map((r) => r.cpu).sort((a, b) => a - b);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    `${name}: ${list.length} pushes, wall mean ${fmt(mean(walls))} p50 ${fmt(walls[walls.length >> 1])} max ${fmt(walls.at(-1))} ms; cpu mean ${fmt(mean(cpus))} p50 ${fmt(cpus[cpus.length >> 1])} max ${fmt(cpus.at(-1))} ms`,
  );
  if (args.pull) {
    const pulls = list.map((r) => r.pull).sort((a, b) => a - b);
    const pullCpus = list.map((r) => r.pullCpu).sort((a, b) => a - b);
    console.log(`${name}: first pull after each push, wall mean ${fmt(mean(pulls))} p50 ${fmt(pulls[pulls.length >> 1])} max ${fmt(pulls.at(-1))} ms; cpu mean ${fmt(mean(pullCpus))} ms`);
  }
}
