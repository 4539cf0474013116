#!/usr/bin/env node
// node bench/read-reuse-probe.js cold|drop|ahead|drop+ahead|direct [write-mib=1] [dir=os.tmpdir()]
// Whether a cold read reuses page-cache pages dropped just before it (docs/bench.md, "Large pulls, eighth
// pass"). Writes X (256 MiB, synced, dropped from the page cache) and K (256 MiB in `write-mib` MiB writes,
// synced and kept cached), waits 4 s, then reads X in 4 MiB positional reads on the thread pool, as a blob
// GET does; `drop` drops K's next 4 MiB (posix_fadvise DONTNEED through node:wasi, as the filesystem driver's
// page-cache budget does) before each read; `ahead` asks for X's pages 32 MiB ahead of each read (WILLNEED,
// as read-ahead.ts does); `direct` reads X with O_DIRECT into a page-aligned buffer, around the page cache
// (its second read is from the disk too; docs/bench.md, "Large pulls, eleventh pass"). Prints the wall and
// system time of the read, and of a second (warm) read after it. On a VM whose
// balloon reports free pages, a read into fresh pages costs several times the system time of one into pages
// just freed; which it gets depends on the size of the folios dropped (ext4 gives a write of N MiB folios of
// up to N MiB; readahead reads into 2 MiB folios). Needs `npm run build`.
import { closeSync, constants, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dropCachedRange, readAheadRange } from '../plugins/filesystem/dist/fadvise.js';

const [mode = 'drop', writeMib = '1', dir = os.tmpdir()] = process.argv.slice(2);
if (!['cold', 'drop', 'ahead', 'drop+ahead', 'direct'].includes(mode)) throw new Error('cold, drop, ahead, drop+ahead or direct');
const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const PIECE = 4 * MiB;

function write(name, pieceBytes) {
  const file = path.join(dir, `stowage-read-reuse-probe-${process.pid}-${name}`);
  const batch = Buffer.alloc(pieceBytes, 1);
  const fd = openSync(file, 'w');
  for (let at = 0; at < SIZE; at += pieceBytes) {
    batch[0] = at / pieceBytes;
    writeSync(fd, batch);
  }
  fdatasyncSync(fd);
  closeSync(fd);
  return file;
}

const read = write('read', PIECE);
dropCachedRange(read, 0, 0);
const kept = write('kept', Number(writeMib) * MiB);
try {
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const handle = await open(read, mode === 'direct' ? constants.O_RDONLY | constants.O_DIRECT : 'r');
  // O_DIRECT needs a buffer aligned to the disk's blocks: a WebAssembly memory starts on a page
  const buffer = mode === 'direct' ? Buffer.from(new WebAssembly.Memory({ initial: PIECE / 65536 }).buffer) : Buffer.alloc(PIECE);
  let asked = 0;
  for (let at = 0; at < SIZE; at += PIECE) {
    if (mode.startsWith('drop')) dropCachedRange(kept, at, PIECE);
    for (; mode.endsWith('ahead') && asked < Math.min(SIZE, at + PIECE + 32 * MiB); asked += PIECE) readAheadRange(read, asked, PIECE);
    await handle.read(buffer, 0, PIECE, at);
  }
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  for (let at = 0; at < SIZE; at += PIECE) await handle.read(buffer, 0, PIECE, at);
  const warmCpu = process.cpuUsage(cpu0);
  await handle.close();
  const ms = (micros) => (micros / 1000).toFixed(0);
  console.log(
    `${mode}, kept file written in ${writeMib} MiB writes: read ${(t1 - t0).toFixed(0)} ms, system ${ms(cpu.system)} ms; ` +
      `again ${(performance.now() - t1).toFixed(0)} ms, system ${ms(warmCpu.system - cpu.system)} ms (load ${os.loadavg()[0].toFixed(2)})`,
  );
} finally {
  unlinkSync(read);
  unlinkSync(kept);
}
