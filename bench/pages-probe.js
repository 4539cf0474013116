#!/usr/bin/env node
// node bench/pages-probe.js [--checkout DIR] [--pages 200] [--only catalog1k,catalog100k,tags1k,tags100k] [--sync]
//   [--no-tags-rebuild] [--node-flags='--cpu-prof --cpu-prof-dir=/tmp/prof --trace-gc']
// The benchmark's four page scenarios (bench/scenarios.js `scaleScenarios`: a page of 100 with `last` mid-way
// from 1,000 and 100,000 repositories, and from 1,000 and 100,000 tags), in the same order, set up the same way
// (bench/layout.js, then `stowage catalog rebuild` for the catalog), against one `stowage serve` of a built
// checkout, with what the benchmark does not show: each page's time, the server's CPU (all threads, per thread
// name) during the set-up, for the first page and for the rest, this client's own collections during the pages,
// and the kernel threads' CPU (writeback) during the pages. `--sync` flushes the set-up's writes before the pages.
// The tag set-ups run `stowage catalog rebuild` after writing, as the benchmark's do (the operator's step after
// writing storage directly: it writes large tag folders' listing files); `--no-tags-rebuild` leaves it out (and a
// checkout without listing files gains nothing from it).
// Where the time of the pages from 100,000 goes against those from 1,000: docs/bench.md, "Catalog and tag pages:
// the mean".
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { repositoryName, tagName, writeRepositories, writeTags } from './layout.js';
import { freePort, PROJECT_ROOT, writeStowageConfig } from './servers.js';

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    checkout: { type: 'string', default: PROJECT_ROOT },
    pages: { type: 'string', default: '200' },
    only: { type: 'string', default: 'catalog1k,catalog100k,tags1k,tags100k' },
    sync: { type: 'boolean', default: false },
    'tags-rebuild': { type: 'boolean', default: true },
    'node-flags': { type: 'string', default: '' },
  },
});
const PAGES = Number(args.pages);
const only = new Set(args.only.split(','));
const DIGEST = `sha256:${'5'.repeat(64)}`;

/** user + system CPU of `/proc/<pid>/task/<tid>` entries, in ms (10 ms ticks), summed by thread name */
function threadCpu(pid) {
  const byName = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      /* a thread that ended */
    }
  }
  return byName;
}
/** the process's major page faults so far (pages read back from disk: code or memory reclaimed while it sat idle) */
function majorFaults(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[9]);
}
const total = (byName) => Object.values(byName).reduce((a, b) => a + b, 0);
const minus = (after, before) => Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));

/** CPU of each of the kernel's own threads (children of kthreadd: writeback, the journal), in ms, by pid */
function kernelThreadsCpu() {
  const byPid = new Map();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[1] === '2') byPid.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      /* gone */
    }
  }
  return byPid;
}
/** CPU the kernel threads alive at both readings used in between (one that ended meanwhile is not counted) */
const kernelCpuBetween = (before, after) => [...after].reduce((sum, [pid, ms]) => sum + (before.has(pid) ? ms - before.get(pid) : 0), 0);

const clientGcs = [];
new PerformanceObserver((list) => clientGcs.push(...list.getEntries().map((e) => ({ major: e.detail?.kind === 2 || e.detail?.kind === 4, start: e.startTime, duration: e.duration })))).observe({ entryTypes: ['gc'] });

const port = await freePort();
const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-pages-probe-'));
const root = path.join(workdir, 'storage');
await mkdir(root);
const config = await writeStowageConfig(workdir, root, port);
// as bin/stowage starts it (MALLOC_ARENA_MAX=2, --max-semi-space-size=4), node started directly so that its own flags apply
const server = spawn(process.execPath, ['--max-semi-space-size=4', ...args['node-flags'].split(' ').filter(Boolean), path.join(args.checkout, 'bin', 'stowage.js'), 'serve', '--config', config], {
  env: { PATH: process.env.PATH, HOME: workdir, MALLOC_ARENA_MAX: '2', NODE_ENV: 'production' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (;;) {
  const up = await fetch(`${base}/v2/`).then((response) => response.status < 500, () => false);
  if (up) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}

async function scenario(label, setup, url) {
  const beforeSetup = threadCpu(server.pid);
  await setup();
  if (args.sync) execFileSync('sync');
  const afterSetup = threadCpu(server.pid);
  const faultsBefore = majorFaults(server.pid);
  let faultsFirst = 0;
  const kernelBefore = kernelThreadsCpu();
  const started = performance.now();
  const times = [];
  let afterFirst;
  for (let i = 0; i < PAGES; i++) {
    const t0 = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${label}: ${response.status}`);
    times.push(performance.now() - t0);
    if (i === 0) {
      afterFirst = threadCpu(server.pid);
      faultsFirst = majorFaults(server.pid) - faultsBefore;
    }
  }
  const ended = performance.now();
  const afterPages = threadCpu(server.pid);
  const kernel = kernelCpuBetween(kernelBefore, kernelThreadsCpu());
  const sum = times.reduce((a, b) => a + b, 0);
  const sorted = [...times].sort((a, b) => a - b);
  const gcs = clientGcs.filter((gc) => gc.start >= started && gc.start <= ended);
  console.log(`${label}`);
  console.log(`  server CPU during set-up ${total(minus(afterSetup, beforeSetup))} ms ${JSON.stringify(minus(afterSetup, beforeSetup))}`);
  console.log(`  pages: mean ${(sum / PAGES).toFixed(3)} ms (without the first ${((sum - times[0]) / (PAGES - 1)).toFixed(3)}), p50 ${sorted[PAGES >> 1].toFixed(2)}, p95 ${sorted[Math.floor(PAGES * 0.95)].toFixed(2)}, max ${sorted[PAGES - 1].toFixed(1)}`);
  console.log(`  server CPU: first page ${total(minus(afterFirst, afterSetup))} ms (${times[0].toFixed(1)} ms long, ${faultsFirst} major page faults), the other ${PAGES - 1} ${(total(minus(afterPages, afterFirst)) / (PAGES - 1)).toFixed(3)} ms each ${JSON.stringify(minus(afterPages, afterFirst))}`);
  console.log(`  client collections during the pages: ${gcs.length}, ${gcs.reduce((a, gc) => a + gc.duration, 0).toFixed(1)} ms (${gcs.filter((gc) => gc.major).length} major); kernel threads' CPU ${kernel} ms`);
  console.log(`  pages over 3 ms: ${times.map((t, i) => (t > 3 ? `#${i} ${t.toFixed(1)}` : '')).filter(Boolean).join(', ') || 'none'}`);
}

let repositories = 0;
const rebuild = () => execFileSync(process.execPath, [path.join(args.checkout, 'bin', 'stowage.js'), 'catalog', 'rebuild', '--config', config], { stdio: 'ignore' });
try {
  for (const [count, key] of [
    [1000, 'catalog1k'],
    [100_000, 'catalog100k'],
  ]) {
    if (!only.has(key)) continue;
    const last = encodeURIComponent(repositoryName('scale', Math.floor(count / 2) - 1));
    await scenario(`catalog ${count.toLocaleString('en')} repositories: page of 100`, async () => {
      await writeRepositories(root, 'scale', repositories, count, DIGEST);
      repositories = count;
      rebuild();
    }, `${base}/v2/_catalog?n=100&last=${last}`);
  }
  for (const [count, name, key] of [
    [1000, 'scale/tags1k', 'tags1k'],
    [100_000, 'scale/tags100k', 'tags100k'],
  ]) {
    if (!only.has(key)) continue;
    await scenario(`tags list ${count.toLocaleString('en')} tags: page of 100`, async () => {
      await writeTags(root, name, count, DIGEST, count <= 5000);
      if (args['tags-rebuild']) rebuild();
    }, `${base}/v2/${name}/tags/list?n=100&last=${tagName(count / 2 - 1)}`);
  }
} finally {
  server.kill('SIGTERM');
  if (server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve));
  await rm(workdir, { recursive: true, force: true });
}
