/**
 * Objects written through a writer, kept as the chunks they arrived in.
 *
 * Why: eblob gives a record a place in its blob file sized for what was written, and a write that extends
 * a record moves it whole to a new place at the end of the file, leaving the old one as dead space until
 * defragmentation (eblob library/blob.c: eblob_writev_return -> eblob_try_overwritev fails with -E2BIG ->
 * eblob_write_prepare_disk_ll with EBLOB_COPY_RECORD; elliptics example/eblob_backend.c hands a plain WRITE to
 * eblob_writev_return). Staging an upload as WRITEs at growing offsets of one key therefore used space
 * quadratic in its size. Here every chunk is its own key, written once whole and never extended, and the
 * object is a small descriptor naming its chunks, so a layer takes its size once, plus a few bytes per chunk.
 *
 * Keys (all in the driver's namespace):
 * - `chunk:<random>`: one chunk's bytes;
 * - `upload:<path>`: the journal of an uncommitted upload, lines `<chunk name> <size>`, added with APPEND
 *   (atomic on the server; eblob grows an appended record geometrically, so the journal stays linear);
 * - `chunked:<path>`: the committed object's descriptor, JSON `{"size":n,"chunks":[[name,size],...]}`;
 * - `staged:<dir>`: names in `dir` that had an upload staged, one a line (APPEND), for recursive deletes.
 * An object written whole (`putContent`, and `move` of such an object) stays a plain record under `<path>`;
 * a reader looks there first and at `chunked:<path>` next.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from './objects.js';
import type { EllipticsClient, ReplicaInfo } from './protocol/client.js';
import { IoFlags } from './protocol/constants.js';

export type ChunkEntry = readonly [name: string, size: number];

export interface ChunkedObject {
  readonly size: number;
  readonly chunks: readonly ChunkEntry[];
  readonly replica: ReplicaInfo;
}

const CHUNK_NAME = /^[0-9a-f]{32}$/;

export class ChunkStore {
  constructor(
    private readonly client: EllipticsClient,
    private readonly objects: ObjectStore,
    private readonly idOf: (key: string) => Buffer,
    private readonly clock: { now(): { tsec: number; tnsec: number } },
  ) {}

  // ---- chunks

  /** Stores one chunk under a fresh key (one WRITE of a new record: nothing is ever extended). */
  async writeChunk(data: Buffer): Promise<ChunkEntry> {
    const name = randomBytes(16).toString('hex');
    await this.objects.write(this.idOf(`chunk:${name}`), data.length, [data]);
    return [name, data.length];
  }

  async removeChunks(chunks: readonly ChunkEntry[]): Promise<void> {
    for (const [name] of chunks) await this.client.removeQuorum(this.idOf(`chunk:${name}`));
  }

  /** The bytes of a list of chunks from `offset`, one chunk (and within it one ranged READ) at a time. */
  async *bytes(chunks: readonly ChunkEntry[], offset = 0): AsyncGenerator<Buffer> {
    let start = 0;
    for (const [name, size] of chunks) {
      const end = start + size;
      if (end > offset && size > 0) {
        const id = this.idOf(`chunk:${name}`);
        const replica = await this.client.newest(id);
        if (!replica || replica.size < size) throw new Error(`elliptics: chunk ${name} holds ${replica?.size ?? 0} of its ${size} bytes`);
        yield* this.objects.chunks(id, { ...replica, size }, Math.max(0, offset - start));
      }
      start = end;
    }
  }

  // ---- uncommitted uploads

  /** The chunks staged for `path`, in order, or undefined when no upload is staged there. */
  async staged(path: string): Promise<ChunkEntry[] | undefined> {
    const id = this.idOf(`upload:${path}`);
    const replica = await this.client.newest(id);
    if (!replica) return undefined;
    const journal = replica.size === 0 ? '' : (await this.objects.readAll(id, replica)).toString('utf8');
    return journal
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => parseEntry(line, `the staged upload of ${path}`));
  }

  /** Adds a chunk to the upload staged for `path`. */
  async stage(path: string, entry: ChunkEntry): Promise<void> {
    const line = Buffer.from(`${entry[0]} ${entry[1]}\n`, 'utf8');
    await this.client.writeQuorum(this.idOf(`upload:${path}`), { ioFlags: IoFlags.APPEND, offset: 0, num: 0, ...this.clock.now() }, line);
  }

  /** Forgets the upload staged for `path`; its chunks too unless they now belong to a committed object. */
  async unstage(path: string, chunks: readonly ChunkEntry[] | 'keep-chunks'): Promise<void> {
    await this.client.removeQuorum(this.idOf(`upload:${path}`));
    if (chunks !== 'keep-chunks') await this.removeChunks(chunks);
  }

  /**
   * Notes in `staged:<dir>` that `name` in `dir` has an upload staged, so a recursive delete of `dir` (how
   * stowage cancels and purges upload sessions) finds its chunks although no listing names them.
   */
  async noteStaged(dir: string, name: string): Promise<void> {
    await this.client.writeQuorum(this.idOf(`staged:${dir}`), { ioFlags: IoFlags.APPEND, offset: 0, num: 0, ...this.clock.now() }, Buffer.from(`${name}\n`, 'utf8'));
  }

  /** Names in `dir` that had an upload staged (some may have been committed or cancelled since). */
  async stagedNames(dir: string): Promise<string[]> {
    const id = this.idOf(`staged:${dir}`);
    const replica = await this.client.newest(id);
    if (!replica || replica.size === 0) return [];
    const names = (await this.objects.readAll(id, replica)).toString('utf8').split('\n');
    return [...new Set(names.filter((name) => name !== ''))];
  }

  async forgetStagedNames(dir: string): Promise<void> {
    await this.client.removeQuorum(this.idOf(`staged:${dir}`));
  }

  // ---- committed objects

  async descriptor(path: string): Promise<ChunkedObject | undefined> {
    const id = this.idOf(`chunked:${path}`);
    const replica = await this.client.newest(id);
    if (!replica) return undefined;
    const text = (await this.objects.readAll(id, replica)).toString('utf8');
    let parsed: { size?: unknown; chunks?: unknown };
    try {
      parsed = JSON.parse(text) as { size?: unknown; chunks?: unknown };
    } catch (err) {
      throw new Error(`elliptics: the chunk list of ${path} is not JSON`, { cause: err });
    }
    const chunks = Array.isArray(parsed.chunks) ? parsed.chunks.map((entry) => parseEntry(Array.isArray(entry) ? entry.join(' ') : '', `the chunk list of ${path}`)) : undefined;
    const size = chunks?.reduce((sum, [, bytes]) => sum + bytes, 0);
    if (!chunks || size === undefined || size !== parsed.size) throw new Error(`elliptics: the chunk list of ${path} is malformed`);
    return { size, chunks, replica };
  }

  /** Writes the descriptor of `path` (replacing any), returning the chunks of the one it replaced. */
  async publish(path: string, chunks: readonly ChunkEntry[]): Promise<readonly ChunkEntry[]> {
    const previous = await this.descriptor(path);
    const size = chunks.reduce((sum, [, bytes]) => sum + bytes, 0);
    const body = Buffer.from(JSON.stringify({ size, chunks }), 'utf8');
    await this.objects.write(this.idOf(`chunked:${path}`), body.length, [body]);
    const kept = new Set(chunks.map(([name]) => name));
    return (previous?.chunks ?? []).filter(([name]) => !kept.has(name));
  }

  /** Removes the descriptor of `path`, and its chunks unless `keepChunks`; false when there was none. */
  async drop(path: string, keepChunks = false): Promise<boolean> {
    const previous = await this.descriptor(path);
    if (!previous) return false;
    await this.client.removeQuorum(this.idOf(`chunked:${path}`));
    if (!keepChunks) await this.removeChunks(previous.chunks);
    return true;
  }
}

function parseEntry(line: string, where: string): ChunkEntry {
  const [name, size, ...rest] = line.split(' ');
  const bytes = Number(size);
  if (rest.length > 0 || !name || !CHUNK_NAME.test(name) || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new Error(`elliptics: ${where} holds a malformed entry ${JSON.stringify(line.slice(0, 80))}`);
  }
  return [name, bytes];
}
