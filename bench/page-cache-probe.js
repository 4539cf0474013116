#!/usr/bin/env node
// node bench/page-cache-probe.js keep|drop [files=24] [dir=os.tmpdir()]
// What the filesystem writer's page-cache budget is for (plugins/filesystem/src/page-cache.ts): files of 256 MiB
// written one after another as the writer writes an upload (1 MiB writes, an fdatasync every 2 MiB), each kept
// until the end, printing per file `wall ms/system ms` of this process. `keep` leaves the written pages cached,
// so the page cache grows by 256 MiB a file into memory it has not touched; `drop` drops each synced range
// (posix_fadvise DONTNEED through node:wasi, as the writer does past its budget), so the next writes reuse the
// freed pages. On a VM whose balloon reports free memory to the host, `keep` shows the system time of a file
// jump several-fold once the page cache reaches memory the host took back (docs/bench.md, "Large uploads,
// seventh pass"). Needs `npm run build`.
import { closeSync, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropCachedRange } from '../plugins/filesystem/dist/fadvise.js';

const [mode = 'keep', count = '24', dir = os.tmpdir()] = process.argv.slice(2);
if (mode !== 'keep' && mode !== 'drop') throw new Error('keep or drop');
const MiB = 1024 * 1024;
const batch = Buffer.alloc(MiB, 1);
const files = [];
const line = [];
try {
  for (let i = 0; i < Number(count); i++) {
    const file = path.join(dir, `stowage-page-cache-probe-${process.pid}-${i}`);
    files.push(file);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const fd = openSync(file, 'w');
    for (let mb = 0; mb < 256; mb++) {
      batch[0] = i;
      batch[1] = mb;
      writeSync(fd, batch);
      if (mb % 2 === 1) {
        fdatasyncSync(fd);
        if (mode === 'drop') dropCachedRange(file, 0, (mb + 1) * MiB);
      }
    }
    closeSync(fd);
    const cpu = process.cpuUsage(cpu0);
    line.push(`${(performance.now() - t0).toFixed(0)}/${(cpu.system / 1000).toFixed(0)}`);
  }
} finally {
  for (const file of files) unlinkSync(file);
}
console.log(`${mode}: per 256 MiB file, wall ms/system ms: ${line.join(' ')} (load ${os.loadavg()[0].toFixed(2)})`);
