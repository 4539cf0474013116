/**
 * posix_fadvise for the page-cache budget (page-cache.ts) and reads ahead (read-ahead.ts).
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
const ADVICE_WILLNEED = 3;
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

/** Gives `advice` for `file`'s bytes [offset, offset + length) (length 0: to the end); answers whether it was given. */
function advise(file: string, offset: number, length: number, advice: number): boolean {
  const wasi = getAdvisor();
  if (!wasi) return false;
  // relative to the preopened `/`
  const path = encoder.encode(resolve(file).slice(1));
  if (path.length > PATH_MAX) return false;
  new Uint8Array(wasi.memory.buffer).set(path, PATH_AT);
  if (wasi.calls.path_open(PREOPENED_ROOT_FD, 0, PATH_AT, path.length, 0, RIGHT_FD_ADVISE, 0n, 0, FD_OUT) !== 0) return false;
  const fd = new DataView(wasi.memory.buffer).getUint32(FD_OUT, true);
  try {
    return wasi.calls.fd_advise(fd, BigInt(offset), BigInt(length), advice) === 0;
  } finally {
    wasi.calls.fd_close(fd);
  }
}

/**
 * Drops `file`'s clean cached pages in [offset, offset + length) (length 0: to the end). Pages still dirty or
 * under writeback stay: call it for a range a finished fdatasync covered. Answers whether the advice was given.
 */
export const dropCachedRange = (file: string, offset: number, length: number): boolean => advise(file, offset, length, ADVICE_DONTNEED);

/**
 * Starts reading `file`'s bytes [offset, offset + length) into the page cache (what is cached already is
 * skipped), without waiting for the disk. Answers whether the advice was given.
 */
export const readAheadRange = (file: string, offset: number, length: number): boolean => advise(file, offset, length, ADVICE_WILLNEED);
