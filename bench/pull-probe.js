#!/usr/bin/env node
// node bench/pull-probe.js [--targets stowage,baseline,distribution] [--baseline DIR] [--rounds 3] [--size-mb 256]
//   [--after-mb 768] [--pause-ms 3000] [--warm 3] [--perf DIR [--perf-warm]]
// The first pull of a large blob pushed before others, as in the benchmark (its 256 MB blob is pulled after
// 1.4 GB of other pushes): per round and target, a blob of `--size-mb` is pushed, then `--after-mb` more in
// blobs of the same size, then after `--pause-ms` (the benchmark's small pushes in between; free page
// reporting hands freed memory to the host after about 2 s) the first blob is pulled once cold and
// `--warm` times after. One server per target, the targets taking turns by round, so an A/B shares its
// minutes. Per pull: wall, the server's CPU by thread (user/system), the client's CPU (this process, an undici
// client as the bench's) and its mark-compacts, the blob's bytes in the page cache after it (fincore), the
// /proc/vmstat counters of the cold pull and the bytes of the blobs pushed after it that it dropped from the
// page cache; with `--perf` a `perf record -g` of the server during each cold pull
// (DIR/<target>-r<round>.data), and with `--perf-warm` one over each round's warm pulls together
// (DIR/<target>-r<round>-warm.data). Why: docs/bench.md, "Large pulls, eighth pass", "eleventh pass"
// and "thirteenth pass".
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { cpuDelta, cpuSystem, cpuText, cpuTotal, threadCpu, vmDelta, vmstat } from './probe-stats.js';
import { deterministicBytes } from './scenarios.js';
import { benchBaseDir, startDistribution, startStowage } from './servers.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: 'stowage' },
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'size-mb': { type: 'string', default: '256' },
    'after-mb': { type: 'string', default: '768' },
    'pause-ms': { type: 'string', default: '3000' },
    warm: { type: 'string', default: '3' },
    perf: { type: 'string' },
    'perf-warm': { type: 'boolean', default: false },
  },
});
const MiB = 1024 * 1024;
const SIZE = Number(args['size-mb']) * MiB;
const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 4 });
const REPOSITORY = 'probe/pull';

/** this process's (the client's) garbage collections: mark-compacts and their pause, which the pulls' own CPU includes */
const clientGc = { majors: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind !== perfConstants.NODE_PERFORMANCE_GC_MAJOR) continue;
    clientGc.majors++;
    clientGc.majorMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

async function call(url, options) {
  const response = await request(url, { ...options, dispatcher });
  await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
  if (!options.expect.includes(response.statusCode)) throw new Error(`${options.method} ${url}: HTTP ${response.statusCode}`);
  return response;
}

const template = deterministicBytes('pull-probe', SIZE);
/** pushes a new blob of SIZE bytes (monolithic); answers its digest */
async function push(base) {
  const content = Buffer.from(template);
  randomBytes(32).copy(content, 0);
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  const started = await call(`${base}/v2/${REPOSITORY}/blobs/uploads/`, { method: 'POST', expect: [202] });
  const target = new URL([started.headers.location].flat()[0], base);
  target.searchParams.set('digest', digest);
  await call(target.toString(), { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream' }, expect: [201] });
  return digest;
}

/** MiB of the blobs' files in the page cache (distribution's layout, which stowage's filesystem driver shares) */
function residentMiB(server, ...digests) {
  if (digests.length === 0) return 0;
  const files = digests.map((digest) => {
    const hex = digest.slice('sha256:'.length);
    return path.join(server.storageRoot, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  });
  const lines = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', ...files], { encoding: 'utf8' });
  return lines.trim().split('\n').reduce((sum, line) => sum + Number(line.trim()), 0) / MiB;
}

async function pull(server, digest, perfOutput) {
  const perf = perfOutput && spawn('perf', ['record', '-q', '-g', '-p', String(server.pid), '-o', perfOutput], { stdio: 'ignore' });
  // perf attaches within a few hundred ms; a pull that starts earlier is profiled in part
  if (perf) await new Promise((resolve) => setTimeout(resolve, 500));
  const cpu0 = threadCpu(server.pid);
  const vm0 = vmstat();
  const client0 = process.cpuUsage();
  const gc0 = { ...clientGc };
  const t0 = performance.now();
  const response = await request(`${server.url}/v2/${REPOSITORY}/blobs/${digest}`, { dispatcher });
  let bytes = 0;
  for await (const piece of response.body) bytes += piece.length;
  const wall = performance.now() - t0;
  const clientUsage = process.cpuUsage(client0);
  const client = (clientUsage.user + clientUsage.system) / 1000;
  // the observer reports a collection after it ends: let the ones during the pull arrive
  await new Promise((resolve) => setImmediate(resolve));
  const majors = clientGc.majors - gc0.majors;
  const majorMs = clientGc.majorMs - gc0.majorMs;
  if (bytes !== SIZE) throw new Error(`pull: ${bytes} bytes`);
  const cpu = cpuDelta(threadCpu(server.pid), cpu0);
  if (perf) {
    perf.kill('SIGINT');
    await once(perf, 'exit');
  }
  return { wall, cpu, client, majors, majorMs, vm: vmDelta(vmstat(), vm0), resident: residentMiB(server, digest) };
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
const results = Object.fromEntries(targets.map((name) => [name, { cold: [], warm: [] }]));
const fmt = (n) => n.toFixed(0);
/** free page reporting's counters, on a kernel that exposes them (KiB handed to the host, passes of the reporter) */
function reporting() {
  const read = (name) => {
    try {
      return Number(readFileSync(`/sys/module/page_reporting/parameters/${name}`, 'utf8'));
    } catch {
      return NaN;
    }
  };
  return { kib: read('reported_kib'), passes: read('passes') };
}
const reportedText = (after, before) => `${fmt((after.kib - before.kib) / 1024)} MiB in ${after.passes - before.passes} passes`;
const VM_SHOWN = ['pgalloc_normal', 'pgfree', 'pgfault', 'pgpgin', 'pgactivate', 'pgdeactivate', 'workingset_refault_file', 'pgsteal_kswapd', 'pgsteal_direct'];
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const name of targets) {
      const server = servers[name];
      const reported0 = reporting();
      const first = await push(server.url);
      const after = [];
      for (let pushed = 0; pushed < Number(args['after-mb']) * MiB; pushed += SIZE) after.push(await push(server.url));
      await new Promise((resolve) => setTimeout(resolve, Number(args['pause-ms'])));
      const othersBefore = residentMiB(server, ...after);
      const reported1 = reporting();
      const cold = await pull(server, first, args.perf && path.join(args.perf, `${name}-r${round}.data`));
      const othersAfter = residentMiB(server, ...after);
      const reported2 = reporting();
      results[name].cold.push(cold);
      const vm = VM_SHOWN.filter((key) => key in cold.vm).map((key) => `${key} ${cold.vm[key]}`).join(', ');
      console.log(`${name} r${round} cold: ${fmt(cold.wall)} ms, cpu ${cpuTotal(cold.cpu)} ms (${cpuText(cold.cpu)}), client cpu ${fmt(cold.client)} ms (${cold.majors} mark-compacts, ${fmt(cold.majorMs)} ms), cached after ${fmt(cold.resident)} MiB (the later blobs ${fmt(othersBefore)} -> ${fmt(othersAfter)} MiB), load ${os.loadavg()[0].toFixed(2)}\n    vmstat ${vm}\n    reported to the host: during the pushes and pause ${reportedText(reported1, reported0)}, during the cold pull ${reportedText(reported2, reported1)}`);
      const warm = [];
      const warmPerf = args.perf && args['perf-warm'] && spawn('perf', ['record', '-q', '-g', '-p', String(server.pid), '-o', path.join(args.perf, `${name}-r${round}-warm.data`)], { stdio: 'ignore' });
      if (warmPerf) await new Promise((resolve) => setTimeout(resolve, 500));
      for (let i = 0; i < Number(args.warm); i++) warm.push(await pull(server, first));
      if (warmPerf) {
        warmPerf.kill('SIGINT');
        await once(warmPerf, 'exit');
      }
      results[name].warm.push(...warm);
      console.log(`    warm: ${warm.map((w) => `${fmt(w.wall)} ms/${cpuTotal(w.cpu)} cpu/${cpuSystem(w.cpu)} sys/${fmt(w.client)} client/${w.majors} mc`).join(', ')}; cached after ${fmt(warm.at(-1)?.resident ?? 0)} MiB`);
    }
  }
} finally {
  for (const server of Object.values(servers)) await server.close();
  await rm(baseDir, { recursive: true, force: true });
  await dispatcher.close();
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const [name, { cold, warm }] of Object.entries(results)) {
  const line = (label, list) =>
    `${label} wall mean ${fmt(mean(list.map((r) => r.wall)))} max ${fmt(Math.max(...list.map((r) => r.wall)))} ms, cpu mean ${fmt(mean(list.map((r) => cpuTotal(r.cpu))))} (system ${fmt(mean(list.map((r) => cpuSystem(r.cpu))))}) ms, client cpu mean ${fmt(mean(list.map((r) => r.client)))} ms`;
  console.log(`${name}: ${cold.length} cold pulls, ${line('', cold)}; ${warm.length} warm, ${line('', warm)}`);
}
