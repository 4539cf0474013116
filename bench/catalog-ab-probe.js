#!/usr/bin/env node
// node bench/catalog-ab-probe.js --checkouts A,B [--rounds 3] [--pages 200] [--sizes 1000,100000] [--trees /tmp/dir]
//   [--node-flags='--cpu-prof ...']
// Catalog pages of 100 (`last` mid-way, as bench/scenarios.js `scaleScenarios`) from bench/layout.js trees of
// 1,000 and 100,000 repositories, A/B between built checkouts, interleaved round by round. The trees are written
// once into `--trees` and kept between invocations (100,000 repositories take minutes to write). Per round and
// checkout: one `stowage serve` on the tree, then `stowage catalog rebuild` in another process (as the benchmark's
// `afterDirectWrites`), so that the first page finds a base written behind the server's back; then the pages.
// Reports the first page's time and the server's CPU for it, and the mean/p50 of the others with their CPU.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repositoryName, writeRepositories } from './layout.js';
import { freePort, writeStowageConfig } from './servers.js';

const { values: args } = parseArgs({
  options: {
    checkouts: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    pages: { type: 'string', default: '200' },
    sizes: { type: 'string', default: '1000,100000' },
    trees: { type: 'string', default: '/tmp/stowage-catalog-trees' },
    'node-flags': { type: 'string', default: '' },
  },
});
const PAGES = Number(args.pages);
const DIGEST = `sha256:${'5'.repeat(64)}`;

/** user + system CPU of every thread of `pid`, in ms */
function cpuOf(pid) {
  let ms = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      /* a thread that ended */
    }
  }
  return ms;
}

async function tree(count) {
  const root = path.join(args.trees, String(count), 'storage');
  if (!existsSync(path.join(args.trees, String(count), 'written'))) {
    await mkdir(root, { recursive: true });
    await writeRepositories(root, 'scale', 0, count, DIGEST);
    await writeFile(path.join(args.trees, String(count), 'written'), '');
  }
  return root;
}

async function round(checkout, count, root) {
  const port = await freePort();
  const workdir = path.dirname(root);
  const config = await writeStowageConfig(workdir, root, port);
  // The benchmark's server starts on empty storage, so its search index is built at once; one started on a tree
  // of 100,000 would build it in the background through the pages (an in-memory index builds on a first search).
  await appendFile(config, 'search: { backend: memory }\n');
  const server = spawn(process.execPath, ['--max-semi-space-size=4', ...args['node-flags'].split(' ').filter(Boolean), path.join(checkout, 'bin', 'stowage.js'), 'serve', '--config', config], {
    env: { PATH: process.env.PATH, HOME: workdir, MALLOC_ARENA_MAX: '2', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      if (await fetch(`${base}/v2/`).then((response) => response.status < 500, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // the base the server may have loaded at start is replaced behind its back, as in the benchmark
    execFileSync(process.execPath, [path.join(checkout, 'bin', 'stowage.js'), 'catalog', 'rebuild', '--config', config], { stdio: 'ignore' });
    const url = `${base}/v2/_catalog?n=100&last=${encodeURIComponent(repositoryName('scale', Math.floor(count / 2) - 1))}`;
    const times = [];
    const cpu0 = cpuOf(server.pid);
    let cpu1 = 0;
    for (let i = 0; i < PAGES; i++) {
      const t0 = performance.now();
      const response = await fetch(url);
      const body = await response.json();
      if (response.status !== 200 || body.repositories.length !== 100) throw new Error(`${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      times.push(performance.now() - t0);
      if (i === 0) cpu1 = cpuOf(server.pid);
    }
    const cpu2 = cpuOf(server.pid);
    const rest = times.slice(1).sort((a, b) => a - b);
    return { first: times[0], firstCpu: cpu1 - cpu0, mean: times.reduce((a, b) => a + b, 0) / PAGES, restMean: rest.reduce((a, b) => a + b, 0) / rest.length, p50: rest[rest.length >> 1], restCpu: (cpu2 - cpu1) / (PAGES - 1) };
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve));
  }
}

const checkouts = args.checkouts.split(',');
const sizes = args.sizes.split(',').map(Number);
const roots = new Map();
for (const size of sizes) roots.set(size, await tree(size));
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
for (let r = 0; r < Number(args.rounds); r++) {
  for (const checkout of checkouts) {
    const line = [];
    for (const size of sizes) {
      const s = await round(checkout, size, roots.get(size));
      line.push(`${size}: first ${s.first.toFixed(1)} ms (cpu ${s.firstCpu}), mean ${s.mean.toFixed(3)}, rest mean ${s.restMean.toFixed(3)} p50 ${s.p50.toFixed(3)} cpu/page ${s.restCpu.toFixed(3)}`);
    }
    console.log(`round ${r} ${checkout} [load ${load()}]\n  ${line.join('\n  ')}`);
  }
}
