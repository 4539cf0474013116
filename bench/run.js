#!/usr/bin/env node
// npm run bench [-- --quick] [-- --targets distribution,stowage] [-- --json results.json] [-- --baseline DIR] [-- --only 'repositories:|5,000 tags'] [-- --rounds 2]
// Benchmarks stowage (filesystem driver) against CNCF distribution 2.8 (Debian docker-registry) on the same
// machine and disk, over loopback only, scenario by scenario, one registry at a time. See docs/bench.md.
// --baseline DIR adds a third target, "baseline": stowage from another built checkout (before/after a change).
// Each scenario runs --rounds times (default 2) per registry, the order reversed every other round, each timed
// run after a settle (bench/settle.js): the figures are the rounds' together.
// --workers N|auto sets stowage's (and the baseline's) http.workers; --node-flags '...' node options for them.
// --warmup N: N untimed small pushes per registry before the small-push scenario's first round.
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureCeiling } from './ceiling.js';
import { mergeRounds, orderOf, ratiosByRound } from './rounds.js';
import { scenarios } from './scenarios.js';
import { benchBaseDir, startDistribution, startStowage } from './servers.js';
import { settle } from './settle.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    targets: { type: 'string', default: 'distribution,stowage' },
    json: { type: 'string' },
    baseline: { type: 'string' },
    // `|`-separated texts: only the scenarios whose name contains one of them (e.g. `repositories:|5,000 tags`)
    only: { type: 'string' },
    // rounds of each scenario per registry, the order of the registries reversed every other round
    rounds: { type: 'string', default: '2' },
    // stowage's http.workers (a number or `auto`); unset: its default
    workers: { type: 'string' },
    // node options for stowage's (and the baseline's) process, space-separated (e.g. `--max-semi-space-size=2`)
    'node-flags': { type: 'string' },
    // small pushes made before the small-push scenario's first round, untimed (default 0: none)
    warmup: { type: 'string', default: '0' },
  },
});

const nodeFlags = args['node-flags'] ? args['node-flags'].trim().split(/\s+/) : [];
const STARTERS = {
  distribution: startDistribution,
  stowage: (baseDir) => startStowage(baseDir, undefined, args.workers, nodeFlags),
  baseline: (baseDir) => startStowage(baseDir, path.resolve(args.baseline), args.workers, nodeFlags),
};
const targets = args.targets.split(',').map((t) => t.trim());
if (args.baseline && !targets.includes('baseline')) targets.push('baseline');
if (targets.includes('baseline') && !args.baseline) throw new Error('the baseline target needs --baseline DIR (a built stowage checkout)');
for (const target of targets) if (!STARTERS[target]) throw new Error(`unknown target ${target}; known: ${Object.keys(STARTERS).join(', ')}`);
const warmupPushes = Number(args.warmup);
if (!Number.isInteger(warmupPushes) || warmupPushes < 0) throw new Error(`--warmup must be a whole number, not ${args.warmup}`);
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of at least 1, not ${args.rounds}`);

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** `result`: per-operation `samples` (ms), or a load generator's own `count` and `percentiles` (bench/wrk.js) */
function summarise(result, cpuMs) {
  const sorted = [...(result.samples ?? [])].sort((a, b) => a - b);
  const count = result.count ?? sorted.length;
  const totalMs = result.wallMs ?? sorted.reduce((sum, ms) => sum + ms, 0);
  const at = (p) => result.percentiles?.[`p${p}`] ?? percentile(sorted, p);
  return {
    count,
    // CPU time (all threads, user + system) the server used over the scenario, per operation: unlike
    // ops/s it hardly depends on what else the machine is doing (10 ms ticks: read it over many operations)
    cpuMsPerOp: cpuMs / count,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    opsPerSecond: count / (totalMs / 1000),
    // in the JSON only: what a mean is made of when it and p50 disagree (one cold first operation, or a tail)
    ...(result.samples?.length ? { firstMs: result.samples[0], maxMs: sorted[sorted.length - 1], meanMs: sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length } : {}),
    mbPerSecond: result.bytesPerOp ? (result.bytesPerOp * count) / (1024 * 1024) / (totalMs / 1000) : undefined,
    ...(result.generator ? { generator: result.generator } : {}),
  };
}

const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  return rows.map((row, r) => {
    const line = row.map((cell, c) => (c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join(' | ');
    return r === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}` : line;
  }).join('\n');
}

const scale = args.quick ? 0.2 : 1;
const baseDir = await benchBaseDir();
const results = {};
const servers = {};
/** the machine's upload ceiling (bench/ceiling.js), measured right after the 256 MB monolithic pushes */
let ceiling;
const CEILING_AFTER = 'push monolithic 256 MB';
try {
  for (const target of targets) {
    process.stderr.write(`starting ${target}...\n`);
    servers[target] = await STARTERS[target](baseDir);
    results[target] = { scenarios: {} };
  }
  // Scenario by scenario, each registry in turn (the other one idle): load from anything else on the
  // machine then weighs on both sides of a comparison alike.
  const wanted = (scenario) => !args.only || args.only.split('|').some((word) => scenario.name.includes(word.trim()));
  const plans = Object.fromEntries(targets.map((target) => [target, scenarios(scale, { warmupPushes }).filter(wanted)]));
  for (let i = 0; i < plans[targets[0]].length; i++) {
    const runs = Object.fromEntries(targets.map((target) => [target, []]));
    const roundsHere = plans[targets[0]][i].once ? 1 : rounds;
    for (let round = 0; round < roundsHere; round++) {
      for (const target of orderOf(targets, round)) {
        const scenario = plans[target][i];
        process.stderr.write(`  ${target}: ${scenario.name}${roundsHere > 1 ? ` (round ${round + 1})` : ''}\n`);
        // untimed preparation, outside the CPU count (a pull's blob when its push scenario did not run)
        if (round === 0 && scenario.setup) await scenario.setup(servers[target].url, servers[target]);
        const settled = await settle();
        const cpuBefore = servers[target].cpuMs();
        const result = await scenario.run(servers[target].url, servers[target]);
        runs[target].push({ result, cpuMs: servers[target].cpuMs() - cpuBefore, settled });
      }
    }
    for (const target of targets) {
      const { result, cpuMs } = mergeRounds(runs[target]);
      results[target].scenarios[plans[target][i].name] = {
        ...summarise(result, cpuMs),
        // in the JSON only: each round on its own, and how long the settle before it waited
        rounds: runs[target].map((run) => ({ ...summarise(run.result, run.cpuMs), settledMs: Math.round(run.settled.waitedMs), quiet: run.settled.quiet })),
      };
    }
    if (plans[targets[0]][i].name === CEILING_AFTER) {
      process.stderr.write('  ceiling: bare node:http PUT hashed with sha256\n');
      await settle();
      ceiling = await measureCeiling({ sizeMiB: 256, count: Math.max(1, Math.round(3 * scale)) });
    }
  }
  for (const target of targets) results[target].peakRssMiB = servers[target].rss.peak() / (1024 * 1024);
} finally {
  for (const server of Object.values(servers)) await server.close();
  await rm(baseDir, { recursive: true, force: true });
}

const names = Object.keys(results[targets[0]].scenarios);
const header = ['scenario', ...targets.flatMap((t) => [`${t} ops/s`, `${t} MB/s`, `${t} p50/p95/p99 ms`, `${t} cpu ms/op`])];
const compared = targets.includes('distribution') ? targets.filter((t) => t !== 'distribution') : [];
for (const t of compared) header.push(`${t}/distribution`, `${t}/distribution cpu`);
const rows = [header];
for (const name of names) {
  const row = [name];
  for (const target of targets) {
    const s = results[target].scenarios[name];
    row.push(fmt(s.opsPerSecond), s.mbPerSecond === undefined ? '' : fmt(s.mbPerSecond), `${fmt(s.p50, 2)}/${fmt(s.p95, 2)}/${fmt(s.p99, 2)}`, fmt(s.cpuMsPerOp, 2));
  }
  for (const target of compared) {
    const ours = results[target].scenarios[name];
    const theirs = results.distribution.scenarios[name];
    // throughput ratio (> 1: faster), and CPU per operation ratio (< 1: cheaper)
    row.push(`${fmt(ours.opsPerSecond / theirs.opsPerSecond, 2)}x`, `${fmt(ours.cpuMsPerOp / theirs.cpuMsPerOp, 2)}x`);
  }
  rows.push(row);
}
const cpus = os.cpus();
console.log(`stowage benchmark (${args.quick ? 'quick' : 'full'}), ${new Date().toISOString()}, node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}`);
console.log('throughput ratio > 1 means stowage is faster, cpu ratio < 1 that it uses less CPU; ops/s over the run, latencies and server CPU per operation');
console.log(`${rounds} round(s) of each scenario per registry, the order reversed every other round, each after a sync and a quiet CPU (bench/settle.js)`);
console.log(warmupPushes > 0 ? `${warmupPushes} untimed small pushes per registry before the small-push rounds (--warmup)\n` : '');
console.log(table(rows));
if (compared.length > 0 && rounds > 1) {
  // the pooled ratio above is all rounds together; a first round that costs more than the next shows here
  const byRound = ratiosByRound(results);
  const roundRows = [['scenario', ...compared.map((t) => `${t}/distribution by round`)]];
  for (const [name, ratios] of Object.entries(byRound)) roundRows.push([name, ...compared.map((t) => (ratios[t] ?? []).map((r) => `${fmt(r, 2)}x`).join(' / '))]);
  console.log(`\nthroughput ratio by round (round 1 in the order ${targets.join(', ')}, round 2 in the reverse order, and so on)\n`);
  console.log(table(roundRows));
}
console.log(`\npeak server RSS (all of a server's processes together): ${targets.map((t) => `${t} ${fmt(results[t].peakRssMiB)} MiB`).join(', ')}`);
const loaded = names.find((name) => name.startsWith('GET /v2/ while'));
if (loaded) {
  const latency = (t) => results[t].scenarios[loaded];
  console.log(`${loaded}, GET /v2/ latency p50/p95/p99 ms: ${targets.map((t) => `${t} ${fmt(latency(t).p50, 1)}/${fmt(latency(t).p95, 1)}/${fmt(latency(t).p99, 1)} (${latency(t).count} requests)`).join(', ')}`);
}
if (ceiling) {
  const share = (t, name) => (results[t].scenarios[name] ? `${name} ${fmt((100 * results[t].scenarios[name].mbPerSecond) / ceiling.mbPerSecond, 0)} %` : undefined);
  const ours = targets.filter((t) => t !== 'distribution');
  const pushes = names.filter((name) => name.startsWith('push') && name.includes('256 MB'));
  console.log(`ceiling: bare node:http PUT hashed with sha256 (bench/ceiling-server.js), 256 MB x ${ceiling.count}: ${fmt(ceiling.mbPerSecond)} MB/s, server cpu ${fmt(ceiling.cpuMsPerOp, 0)} ms/op`);
  for (const t of [...ours, ...(targets.includes('distribution') ? ['distribution'] : [])]) {
    console.log(`  ${t} MB/s as a share of the ceiling: ${pushes.map((name) => share(t, name)).filter(Boolean).join(', ')}`);
  }
}
const generated = names.filter((name) => results[targets[0]].scenarios[name].generator);
for (const name of generated) console.log(`${name}: load from ${results[targets[0]].scenarios[name].generator} (one thread), its own latency percentiles`);
if (args.workers) console.log(`stowage http.workers: ${args.workers}`);
if (nodeFlags.length > 0) console.log(`stowage node flags: ${nodeFlags.join(' ')}`);
if (args.json) await writeFile(args.json, JSON.stringify({ ...results, ...(ceiling ? { ceiling } : {}), ...(warmupPushes > 0 ? { warmupPushes } : {}) }, null, 2));
