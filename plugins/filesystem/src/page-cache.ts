/**
 * Keeping the page cache that uploads fill from growing without end: the bytes uploads have synced stay
 * cached up to a budget (the newest first, so a pull right after a push reads from memory), and what falls
 * out of it is dropped (posix_fadvise POSIX_FADV_DONTNEED), so that new uploads write into the pages just
 * freed instead of into memory the page cache has not touched yet.
 *
 * Why: on a VM whose balloon reports free memory to the host (virtio_balloon free page reporting, as on the
 * machine the benchmark runs on), the first touch of a page the host took back faults on the host. Writing a
 * 256 MB blob into a page cache that grows by 256 MB then costs 350-600 ms more kernel time than into pages
 * the host still backs (55-80 ms), and which one a push gets is the host's choice: one push in five stalled
 * (docs/bench.md, "Large uploads, seventh pass"). Dropping every synced range at once cured that but made the
 * first pull after a push read the disk (twice its CPU): hence the budget. A budget also makes a pull of a
 * blob pushed before it read the disk, into fresh pages, which on such a VM costs as much kernel time as the
 * write saved (the benchmark's 256 MB pull: 0.8x distribution's with 512 MiB); without one, on such a VM,
 * pushes pay it instead (docs/bench.md, "The December 7 run, after the seventh pass"). Elsewhere no page is
 * faulted in from the host and a budget only lowers the cache's hits: `uploadcache: auto` sets one only on
 * such a VM (free-page-reporting.ts).
 *
 * Node has no posix_fadvise, but its WASI implementation (uvwasi) answers `fd_advise` with one: the file is
 * opened by path through WASI (its own descriptor table, with `/` preopened), advised and closed, three
 * system calls on the request loop that never wait for the disk. The advice is only advice: any failure
 * (a file removed meanwhile, a Node without WASI) is ignored, and a failure to set WASI up turns it off.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { WASI as WasiClass } from 'node:wasi';

/** `(module (memory (export "memory") 1) (func (export "_initialize")))`: memory for the path, nothing else. */
const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x18, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x0b,
  0x5f, 0x69, 0x6e, 0x69, 0x74, 0x69, 0x61, 0x6c, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
]);

/** WASI's numbers (wasi_snapshot_preview1) */
const PREOPENED_ROOT_FD = 3;
const RIGHT_FD_ADVISE = 1n << 7n;
const ADVICE_DONTNEED = 4;
/** where the opened descriptor is written, and where the path starts, in the module's memory */
const FD_OUT = 8;
const PATH_AT = 16;
/** longest path the module's one page holds */
const PATH_MAX = 65536 - PATH_AT;

interface WasiCalls {
  path_open(dirFd: number, dirFlags: number, path: number, pathLength: number, openFlags: number, rights: bigint, inheriting: bigint, fdFlags: number, fdOut: number): number;
  fd_advise(fd: number, offset: bigint, length: bigint, advice: number): number;
  fd_close(fd: number): number;
}

/** the little of WebAssembly used here (the project's TypeScript libraries do not declare it) */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: { readonly memory?: unknown } };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

interface Advisor {
  readonly calls: WasiCalls;
  readonly memory: WasmMemory;
}

let advisor: Advisor | undefined | null;
const encoder = new TextEncoder();

/** The WASI instance, made on first use; null when it cannot be (then nothing is ever dropped). */
function getAdvisor(): Advisor | null {
  if (advisor !== undefined) return advisor;
  try {
    // node:wasi warns once that it is experimental when loaded; that warning says nothing to an operator here
    const emitWarning = process.emitWarning;
    let WASI: typeof WasiClass;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (!String(warning instanceof Error ? warning.message : warning).includes('WASI')) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      ({ WASI } = createRequire(import.meta.url)('node:wasi') as typeof import('node:wasi'));
    } finally {
      process.emitWarning = emitWarning;
    }
    const wasi = new WASI({ version: 'preview1', preopens: { '/': '/' }, returnOnExit: true });
    const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(MODULE_BYTES), { wasi_snapshot_preview1: wasi.wasiImport });
    wasi.initialize(instance);
    advisor = { calls: wasi.wasiImport as unknown as WasiCalls, memory: instance.exports.memory as WasmMemory };
  } catch {
    advisor = null;
  }
  return advisor;
}

/**
 * Drops `file`'s clean cached pages in [offset, offset + length) (length 0: to the end). Pages still dirty or
 * under writeback stay: call it for a range a finished fdatasync covered. Answers whether the advice was given.
 */
export function dropCachedRange(file: string, offset: number, length: number): boolean {
  const wasi = getAdvisor();
  if (!wasi) return false;
  // relative to the preopened `/`
  const path = encoder.encode(resolve(file).slice(1));
  if (path.length > PATH_MAX) return false;
  new Uint8Array(wasi.memory.buffer).set(path, PATH_AT);
  if (wasi.calls.path_open(PREOPENED_ROOT_FD, 0, PATH_AT, path.length, 0, RIGHT_FD_ADVISE, 0n, 0, FD_OUT) !== 0) return false;
  const fd = new DataView(wasi.memory.buffer).getUint32(FD_OUT, true);
  try {
    return wasi.calls.fd_advise(fd, BigInt(offset), BigInt(length), ADVICE_DONTNEED) === 0;
  } finally {
    wasi.calls.fd_close(fd);
  }
}

/**
 * The page cache holds a file in folios of up to 2 MiB (ext4's large folios), each aligned to its size, and
 * drops only the folios wholly inside the range it is given: a range to drop is widened to 2 MiB boundaries
 * (what lies beyond its end in the widened part is newer; dirty pages are never dropped).
 */
const LARGEST_FOLIO = 2 * 1024 * 1024;

/** A file whose synced ranges are kept, by its current path (an upload's partial file is renamed on commit). */
interface KeptFile {
  path: string;
  /** its ranges in the queue */
  ranges: number;
}

interface KeptRange {
  readonly file: KeptFile;
  from: number;
  readonly to: number;
}

/** Synced upload bytes kept in the page cache, newest last, up to `limit` bytes; the oldest beyond it dropped. */
export class KeptPages {
  private readonly files = new Map<string, KeptFile>();
  private readonly ranges: KeptRange[] = [];
  /** index of the oldest range still kept (the queue is compacted now and then) */
  private head = 0;
  private kept = 0;

  constructor(
    /** bytes kept at most */
    private readonly limit: number,
    private readonly drop: (file: string, offset: number, length: number) => unknown = dropCachedRange,
  ) {}

  /** Bytes [from, to) of `path` were synced: they are kept, and the oldest kept bytes beyond the limit dropped. */
  synced(path: string, from: number, to: number): void {
    if (to <= from) return;
    let file = this.files.get(path);
    if (!file) this.files.set(path, (file = { path, ranges: 0 }));
    file.ranges++;
    this.ranges.push({ file, from, to });
    this.kept += to - from;
    while (this.kept > this.limit) this.dropOldest(this.kept - this.limit);
  }

  /** The file at `from` is now at `to` (a commit's rename): its kept ranges are dropped there later. */
  renamed(from: string, to: string): void {
    const file = this.files.get(from);
    if (!file) return;
    this.files.delete(from);
    file.path = to;
    const there = this.files.get(to);
    // a file renamed over another: the other's ranges name content that is gone, and dropping them is harmless
    if (!there) this.files.set(to, file);
  }

  private dropOldest(excess: number): void {
    const oldest = this.ranges[this.head];
    const start = oldest.from - (oldest.from % LARGEST_FOLIO);
    const whole = oldest.to - oldest.from <= excess;
    const end = whole ? oldest.to : oldest.from + excess;
    const widenedEnd = Math.ceil(end / LARGEST_FOLIO) * LARGEST_FOLIO;
    this.drop(oldest.file.path, start, widenedEnd - start);
    this.kept -= end - oldest.from;
    if (!whole) {
      oldest.from = end;
      return;
    }
    this.ranges[this.head++] = undefined as unknown as KeptRange;
    if (--oldest.file.ranges === 0 && this.files.get(oldest.file.path) === oldest.file) this.files.delete(oldest.file.path);
    if (this.head > 1024 && this.head * 2 > this.ranges.length) {
      this.ranges.splice(0, this.head);
      this.head = 0;
    }
  }
}

