// The machine's ceiling for an upload in Node, measured in the same run as the registries: the same client
// PUTs the same 256 MB blob to bench/ceiling-server.js (a bare node:http server that only hashes the body with
// sha256), so `stowage push / ceiling` says how much of what Node can take in stowage reaches (issue 13 asks
// for 70 %). Also `node bench/ceiling.js` on its own.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { deterministicBytes } from './scenarios.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ceiling-server.js');
const MiB = 1024 * 1024;

/** CPU time (user + system, all threads) of a process so far, in ms. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** PUTs a `sizeMiB` blob `count` times; answers MB/s over the puts and the server's CPU ms per put. */
export async function measureCeiling({ sizeMiB = 256, count = 3 } = {}) {
  const child = spawn(process.execPath, [SERVER, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = await once(child.stdout, 'data');
    const url = /http:\/\/\S+/.exec(line.toString())?.[0];
    if (!url) throw new Error(`bench/ceiling-server.js said ${line}`);
    const body = deterministicBytes('ceiling', sizeMiB * MiB);
    let wallMs = 0;
    const cpuBefore = cpuMs(child.pid);
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const response = await request(`${url}/blob`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
      await response.body.dump();
      wallMs += performance.now() - t0;
      if (response.statusCode !== 201) throw new Error(`ceiling PUT: HTTP ${response.statusCode}`);
    }
    return { sizeMiB, count, mbPerSecond: (sizeMiB * count) / (wallMs / 1000), cpuMsPerOp: (cpuMs(child.pid) - cpuBefore) / count };
  } finally {
    child.kill();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measureCeiling();
  console.log(`ceiling: bare node:http PUT hashed with sha256, ${result.sizeMiB} MB x ${result.count}: ${result.mbPerSecond.toFixed(0)} MB/s, server cpu ${result.cpuMsPerOp.toFixed(0)} ms/op`);
}
