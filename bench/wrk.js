// The load generator of the many-connection scenarios: wrk (Debian `wrk`, installed when missing), a C
// client on epoll that needs a fraction of a core, so the server under test gets the others. The bench's own
// undici client, in the bench's Node process, needs a whole core at these rates (docs/bench.md). Both
// targets of a comparison get the same generator.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDebianPackage } from './servers.js';

let available;

/** Whether wrk can be run here, installing it the first time when it is missing; false when it cannot be had. */
export function wrkAvailable() {
  if (available === undefined) {
    try {
      ensureDebianPackage('wrk', 'wrk');
      available = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
    } catch (err) {
      process.stderr.write(`wrk is not available (${err.message}): the many-connection scenarios use the bench's undici client\n`);
      available = false;
    }
  }
  return available;
}

// wrk's own report, as one JSON line: its latency histogram's percentiles (microseconds) and its error counts
const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"p50":%d,"p95":%d,"p99":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/**
 * GETs `url` on `connections` keep-alive connections for `seconds`, with `headers`; one wrk thread. Answers
 * what summarise() in run.js reads: the count, the wall time and wrk's percentiles (ms). Fails on any
 * error or any answer that is not 2xx/3xx, so an error page cannot pass for a fast answer.
 */
export async function wrkGet(url, { connections, seconds, headers = {} }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-bench-wrk-'));
  try {
    const script = path.join(dir, 'report.lua');
    await writeFile(script, REPORT);
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script];
    for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
    args.push(url);
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    const line = output.split('\n').find((text) => text.startsWith('{"requests"'));
    if (code !== 0 || !line) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${output}`);
    const report = JSON.parse(line);
    const errors = report.connect + report.read + report.write + report.status + report.timeout;
    if (errors > 0) throw new Error(`wrk against ${url}: ${errors} errors or non-2xx/3xx answers in ${report.requests} requests:\n${output}`);
    return {
      count: report.requests,
      wallMs: report.durationUs / 1000,
      percentiles: { p50: report.p50 / 1000, p95: report.p95 / 1000, p99: report.p99 / 1000 },
      generator: 'wrk',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
