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
 *   (atomic on the server; eblob grows an appended record geometrically, so the journal stays linear).
 *   Every line is appended with compare-and-swap against the journal its writer last saw (see `stage`), so
 *   of two writers that saw the same journal only the first to write adds to it; a commit first appends
 *   the line `commit` the same way, which claims the upload against writers that saw it before.
 *   A writer's first line is `claim <record>` (its holder, see @stowage/backend-kit claim-lease.ts), and it
 *   ends with `closed` when the writer closes: the chunks of a claim not closed are not acknowledged (the
 *   upload's size leaves them out), and a writer that finds a claim in progress is refused while its holder
 *   lives, and takes it over (its own `claim` line, whose chunks replace the other's) once the holder is
 *   dead or silent for the lease, so a process killed mid-PATCH never leaves the upload refusing for ever.
 *   Chunk lines before any claim (an older stowage's) count as closed;
 * - `chunked:<path>`: the committed object's descriptor, JSON `{"size":n,"chunks":[[name,size],...]}`, with
 *   `"movingTo":"<path>"` while a move hands its chunks to another descriptor;
 * - `staged:<dir>`: names in `dir` that had an upload staged, one a line (APPEND), for recursive deletes.
 * An object written whole (`putContent`, and `move` of such an object) stays a plain record under `<path>`;
 * a reader looks there first and at `chunked:<path>` next.
 */
import { randomBytes } from 'node:crypto';
import { type ClaimRecord, claimIsAbandoned, decodeClaimRecord, encodeClaimRecord } from '@stowage/backend-kit';
import type { ObjectStore } from './objects.js';
import { casParent, type EllipticsClient, QuorumError, type ReplicaInfo, isStatus } from './protocol/client.js';
import { IoFlags, Status } from './protocol/constants.js';

export type ChunkEntry = readonly [name: string, size: number];

export interface ChunkedObject {
  readonly size: number;
  readonly chunks: readonly ChunkEntry[];
  readonly replica: ReplicaInfo;
  /** the path a move is giving these chunks to (see `markMoving`) */
  readonly movingTo?: string;
}

const CHUNK_NAME = /^[0-9a-f]{32}$/;
/** The journal line a commit appends to claim the upload (it adds no bytes). */
const COMMIT_LINE = 'commit';
/** The journal line a writer appends when it closes: its chunks are acknowledged. */
const CLOSED_LINE = 'closed';
const CLAIM_PREFIX = 'claim ';

/** The journal line that starts a writer's claim. */
export const claimLine = (record: ClaimRecord): string => `${CLAIM_PREFIX}${encodeClaimRecord(record).toString('utf8')}\n`;

/** An uncommitted upload as read: its chunks, and the journal's bytes (what the next append expects to find). */
export interface StagedUpload {
  /** the chunks of the upload in order: those writers closed on, then those of the claim in progress */
  readonly entries: ChunkEntry[];
  /** how many of `entries` writers closed on: the upload's acknowledged size is theirs */
  readonly closedCount: number;
  /** a writer's claim in progress (not closed), and whether its holder is gone (see claim-lease.ts) */
  readonly claim?: { readonly abandoned: boolean };
  /** chunks of claims taken over, which the upload no longer holds (removed with it) */
  readonly orphaned: ChunkEntry[];
  readonly journal: Buffer;
}

/** The journal of an upload changed since the writer read it: another writer appended or committed first. */
export class JournalChanged extends Error {
  override readonly name = 'EllipticsJournalChanged';
}

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

  /** Every chunk staged for `path` (a claim in progress's and orphaned ones too), or undefined when no upload is staged there. */
  async staged(path: string): Promise<ChunkEntry[] | undefined> {
    const upload = await this.stagedUpload(path);
    return upload && [...upload.entries, ...upload.orphaned];
  }

  /** The upload staged for `path` with its journal's bytes, or undefined when none is staged there. */
  async stagedUpload(path: string): Promise<StagedUpload | undefined> {
    const id = this.idOf(`upload:${path}`);
    const replica = await this.client.newest(id);
    if (!replica) return undefined;
    const read = replica.size === 0 ? { bytes: Buffer.alloc(0), mtime: replica.mtime } : await this.objects.readWhole(id, replica);
    if (!read) return undefined;
    const journal = read.bytes;
    await this.evenOutJournal(id, replica, journal);
    const entries: ChunkEntry[] = [];
    const orphaned: ChunkEntry[] = [];
    let closedCount = 0;
    let claim: ClaimRecord | 'unreadable' | undefined;
    for (const line of journal.toString('utf8').split('\n')) {
      if (line === '' || line === COMMIT_LINE) continue;
      if (line === CLOSED_LINE) {
        closedCount = entries.length;
        claim = undefined;
      } else if (line.startsWith(CLAIM_PREFIX)) {
        // a claim after another not closed took it over: the other's chunks are no longer the upload's
        orphaned.push(...entries.splice(closedCount));
        claim = decodeClaimRecord(Buffer.from(line.slice(CLAIM_PREFIX.length), 'utf8')) ?? 'unreadable';
      } else {
        entries.push(parseEntry(line, `the staged upload of ${path}`));
        if (claim === undefined) closedCount = entries.length;
      }
    }
    if (claim === undefined) return { entries, closedCount, orphaned, journal };
    // the holder renews its claim by every line it appends: the journal's time is its last renewal
    const modified = read.mtime.tsec * 1000 + Math.floor(read.mtime.tnsec / 1e6);
    const abandoned =
      claim === 'unreadable'
        ? claimIsAbandoned(undefined, new Date(modified))
        : claimIsAbandoned(encodeClaimRecord({ ...claim, renewedAt: Math.max(claim.renewedAt, modified) }), new Date(modified));
    return { entries, closedCount, claim: { abandoned }, orphaned, journal };
  }

  /**
   * Makes every group's copy of an upload journal the newest one, `journal` (read from `newest`). A
   * process killed between the groups' appends leaves a group a line short; every later append compares
   * the journal it read with each group's (CAS), so without this the upload would refuse every writer for
   * ever. A copy that is a prefix of the newest gets the missing tail appended, itself compared-and-swapped,
   * so a writer's append in between wins and this one is dropped. Best effort: a group that cannot be
   * evened out fails the writer's own append, as before.
   */
  private async evenOutJournal(id: Buffer, newest: ReplicaInfo, journal: Buffer): Promise<void> {
    // the groups of the newest version hold it already: after every whole append that is all of them, so
    // the usual journal costs no request here
    const current = new Set([newest.groupId, ...newest.alternates]);
    await this.client.eachGroup(async (groupId) => {
      if (current.has(groupId)) return;
      // a group without the journal is left so: its removal may be under way (a commit's `unstage`)
      const copy = (await this.objects.readWhole(id, { groupId, alternates: [] }))?.bytes;
      if (!copy || copy.length >= journal.length || !journal.subarray(0, copy.length).equals(copy)) return;
      await this.client.write(groupId, id, { ioFlags: IoFlags.APPEND | IoFlags.CAS, offset: 0, num: 0, parent: casParent(copy), ...this.clock.now() }, journal.subarray(copy.length));
    });
  }

  /**
   * Adds a chunk to the upload staged for `path`, if its journal still holds exactly `seen` (undefined: no
   * journal); resolves to the journal's bytes after the append, and throws JournalChanged otherwise.
   */
  async stage(path: string, entry: ChunkEntry, seen: Buffer | undefined, claim = ''): Promise<Buffer> {
    return this.appendClaimed(path, `${claim}${entry[0]} ${entry[1]}\n`, seen);
  }

  /** Claims the upload staged for `path` for a commit, if its journal still holds exactly `seen`. */
  async claimCommit(path: string, seen: Buffer | undefined, claim = ''): Promise<void> {
    await this.appendClaimed(path, `${claim}${COMMIT_LINE}\n`, seen);
  }

  /** Marks the chunks of the writer's claim acknowledged, if the journal still holds exactly `seen`. */
  async closeClaim(path: string, seen: Buffer | undefined): Promise<Buffer> {
    return this.appendClaimed(path, `${CLOSED_LINE}\n`, seen);
  }

  /**
   * APPEND with compare-and-swap: the server appends only if the sha512 of the journal it holds is that of
   * `seen` (elliptics library/dnet.c dnet_cas_local, before the backend's append; -EBADFD otherwise). A key
   * the server does not have passes, so two writers that both saw no journal could both start one; stowage
   * starts an upload from one process (POST), so that race is not one the registry makes.
   */
  private async appendClaimed(path: string, line: string, seen: Buffer | undefined): Promise<Buffer> {
    const bytes = Buffer.from(line, 'utf8');
    const expected = seen ?? Buffer.alloc(0);
    const parent = casParent(expected);
    try {
      await this.client.writeQuorum(this.idOf(`upload:${path}`), { ioFlags: IoFlags.APPEND | IoFlags.CAS, offset: 0, num: 0, parent, ...this.clock.now() }, bytes);
    } catch (err) {
      if (err instanceof QuorumError && err.failures.some((failure) => isStatus(failure, Status.EBADFD))) {
        throw new JournalChanged(`elliptics: the upload staged for ${path} changed since this writer read it`, { cause: err });
      }
      throw err;
    }
    return Buffer.concat([expected, bytes]);
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

  /**
   * Names in `dir` that had an upload staged (some may have been committed or cancelled since), from every
   * group when they disagree: a name appended in some groups only (its process killed between them) is
   * still an upload a recursive delete must find, whichever group a reader would take for the newest.
   */
  async stagedNames(dir: string): Promise<string[]> {
    const id = this.idOf(`staged:${dir}`);
    const replica = await this.client.newest(id);
    if (!replica || replica.size === 0) return [];
    const copies = this.client.heldByEveryGroup(replica)
      ? [await this.objects.readWhole(id, replica)]
      : (await this.objects.readWholeInEachGroup(id)).map((r) => (r.ok ? r.value : undefined));
    const names = copies.flatMap((copy) => copy?.bytes.toString('utf8').split('\n') ?? []);
    return [...new Set(names.filter((name) => name !== ''))];
  }

  async forgetStagedNames(dir: string): Promise<void> {
    await this.client.removeQuorum(this.idOf(`staged:${dir}`));
  }

  // ---- committed objects

  async descriptor(path: string): Promise<ChunkedObject | undefined> {
    const id = this.idOf(`chunked:${path}`);
    const replica = await this.client.newest(id);
    // one READ of the whole record: a rewrite between the LOOKUP and ranged READs would mix two versions
    const read = replica && (await this.objects.readWhole(id, replica));
    if (!replica || !read) return undefined;
    const text = read.bytes.toString('utf8');
    let parsed: { size?: unknown; chunks?: unknown };
    try {
      parsed = JSON.parse(text) as { size?: unknown; chunks?: unknown };
    } catch (err) {
      throw new Error(`elliptics: the chunk list of ${path} is not JSON`, { cause: err });
    }
    const chunks = Array.isArray(parsed.chunks) ? parsed.chunks.map((entry) => parseEntry(Array.isArray(entry) ? entry.join(' ') : '', `the chunk list of ${path}`)) : undefined;
    const size = chunks?.reduce((sum, [, bytes]) => sum + bytes, 0);
    const movingTo = (parsed as { movingTo?: unknown }).movingTo;
    if (!chunks || size === undefined || size !== parsed.size || (movingTo !== undefined && typeof movingTo !== 'string')) {
      throw new Error(`elliptics: the chunk list of ${path} is malformed`);
    }
    return { size, chunks, replica, ...(movingTo !== undefined ? { movingTo } : {}) };
  }

  /**
   * Notes in the descriptor of `path` that a move gives its chunks to `dest`, before `dest`'s descriptor
   * names them: a crash between that write and the drop of this descriptor leaves two descriptors sharing
   * chunks, and `drop` then keeps the ones `dest` names.
   */
  async markMoving(path: string, chunks: readonly ChunkEntry[], dest: string): Promise<void> {
    const size = chunks.reduce((sum, [, bytes]) => sum + bytes, 0);
    const body = Buffer.from(JSON.stringify({ size, chunks, movingTo: dest }), 'utf8');
    await this.objects.write(this.idOf(`chunked:${path}`), body.length, [body]);
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
    if (keepChunks) return true;
    // chunks a move handed on belong to its destination now (a crash kept this descriptor beside it)
    const handedOn = previous.movingTo === undefined ? undefined : await this.descriptor(previous.movingTo);
    const kept = new Set(handedOn?.chunks.map(([name]) => name));
    await this.removeChunks(previous.chunks.filter(([name]) => !kept.has(name)));
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
