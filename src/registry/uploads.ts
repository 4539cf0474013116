/**
 * Upload sessions, resumable across requests, processes and restarts: the session's state is what
 * storage holds (`_uploads/<id>/startedat` and `data`). The running hash lives only in this
 * process (Node cannot serialise a hash state), on the upload hash thread (upload-hash.ts); when it is
 * missing, stale or lost with its thread, the blob is re-hashed from storage once the data is committed.
 * No hashstates are written: distribution re-hashes without them too, and would misread any state we wrote.
 */
import { randomUUID } from 'node:crypto';
import type { FileWriter } from '../storage/driver.js';
import { isPathNotFound, storageErrorCode } from '../storage/errors.js';
import type { BlobDescriptor } from './blobs.js';
import { digestBytes, digestStream, type Digest, type DigestAlgorithm } from './digest.js';
import { RegistryError } from './errors.js';
import type { StorageLayout } from './layout.js';
import { hashAtFirstByte } from './hash-at-first-byte.js';
import { readSmallBody } from './small-body.js';
import { writeBody } from './upload-body.js';
import { inlineHasher, type UploadHash, type UploadHasher } from './upload-hash.js';
import { closedRecordName, isTokenShaped, TOKEN_LIFETIME_MS, UploadTokens, type VerifiedToken } from './upload-tokens.js';
import type { RegistryLogger } from './logger.js';
import type { RegistryStorage } from './storage.js';

/** Where a chunk claims to start and end (inclusive), from Content-Range. */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

/** What admitting a blob holds until it is linked (a quota reservation): committed once linked, released otherwise. */
export interface UploadAdmission {
  commit(): void;
  release(): void;
}

/** Admits a verified blob before it is linked (the quota); throws to refuse it. */
export type Admit = (blob: BlobDescriptor) => UploadAdmission;

export interface UploadStatus {
  readonly id: string;
  /** bytes received so far */
  readonly size: number;
}

const encoder = new TextEncoder();

/** running hashes kept at most; an evicted session is re-hashed from storage when it closes */
const MAX_RUNNING_HASHES = 10_000;
/** finished sessions with self-proving ids remembered at most (a replayed request is refused while remembered) */
const MAX_FINISHED = 10_000;

/**
 * Where a session stands: `token` when its id proves itself (upload-tokens.ts), `stored` when its folder in
 * `_uploads` holds it (every session of an old-format id; one with a token once it received data).
 */
interface Session {
  readonly token?: VerifiedToken;
  readonly stored: boolean;
}

/** distribution's startedat format: RFC 3339 in UTC, whole seconds */
const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** the time a `startedat` (or a closed-session record) holds, in ms; NaN when it is missing or unreadable */
export const startedAtMs = (content: Uint8Array | undefined): number => (content ? Date.parse(Buffer.from(content).toString('utf8').trim()) : Number.NaN);

/** What this process knows of upload sessions beyond storage; shared by every request's view of the registry. */
export class UploadSessionsState {
  /** running hashes of sessions this process has seen, keyed by repository and id */
  readonly digesters = new Map<string, UploadHash>();
  /** one request at a time per session, so offsets and hashes stay in step */
  readonly queues = new Map<string, Promise<unknown>>();
  /**
   * sessions with self-proving ids this process finished: nothing in storage says so (that is the saving),
   * so a replayed request is refused as unknown while the id is remembered here (docs/api.md, upload ids)
   */
  readonly finished = new Set<string>();

  constructor(
    /**
     * where the running hashes are computed: inline on the request loop, or the process's hash thread
     * (`http.hashthread`, chosen by hash-thread-choice.ts)
     */
    readonly hasher: UploadHasher = inlineHasher,
    readonly tokens: UploadTokens = new UploadTokens(),
  ) {}
}

export class UploadSessions {
  private readonly digesters: Map<string, UploadHash>;
  private readonly queues: Map<string, Promise<unknown>>;
  private readonly hasher: UploadHasher;
  private readonly tokens: UploadTokens;
  private readonly finished: Set<string>;

  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly logger: RegistryLogger,
    state: UploadSessionsState = new UploadSessionsState(),
  ) {
    this.digesters = state.digesters;
    this.queues = state.queues;
    this.hasher = state.hasher;
    this.tokens = state.tokens;
    this.finished = state.finished;
  }

  /**
   * A new session, with an id that proves itself (upload-tokens.ts): nothing is written. Its folder and
   * `startedat` are made when it receives data it must keep (`materialise`); a session closed by its first
   * request with a small blob never has one.
   */
  async start(name: string, algorithm: DigestAlgorithm = 'sha256'): Promise<UploadStatus> {
    const id = await this.tokens.issue(this.storage, this.layout, name);
    this.remember(key(name, id), hashAtFirstByte(this.hasher, algorithm));
    return { id, size: 0 };
  }

  /**
   * A new session held in storage from the start (a large monolithic push's). Its `startedat`, and that of a
   * session given its folder later, is written with the driver's putVolatile where it has one: the 202 of a
   * POST promises no content, so a crash may take a session that received nothing (its client's next
   * request is refused as an unknown upload, and it starts again, as after purging). The session is made
   * durable before its first chunk is acknowledged (`append`); a session closed by its first request (PUT
   * ?digest= with the whole blob) never needs to be, since the 201 is for the blob, made durable on its own.
   * That saves a small push the syncs of the session's file and folders: three of its nine.
   *
   * No writer is opened for the session's data: a writer closed unwritten leaves storage as it found it (the
   * driver contract), so opening one here did nothing but cost a call (on an object store, a request to
   * discard a saved upload that a fresh id cannot have). Its first chunk opens one; a session without data
   * has received 0 bytes (`receivedBytes`).
   */
  private async startStored(name: string, algorithm: DigestAlgorithm): Promise<UploadStatus> {
    const id = randomUUID();
    await this.writeStartedAt(name, id, new Date());
    this.remember(key(name, id), hashAtFirstByte(this.hasher, algorithm));
    return { id, size: 0 };
  }

  private async writeStartedAt(name: string, id: string, startedAt: Date): Promise<void> {
    const driver = this.storage.driver;
    const path = this.layout.uploadStartedAt(name, id);
    const content = encoder.encode(rfc3339(startedAt));
    await (driver.putVolatile && driver.persist ? driver.putVolatile(path, content) : driver.putContent(path, content));
  }

  /** Gives a session with a self-proving id its folder, once it receives data to keep: from then on it is a stored session. */
  private async materialise(name: string, id: string, session: Session): Promise<void> {
    if (!session.stored) await this.writeStartedAt(name, id, session.token!.startedAt);
  }

  async status(name: string, id: string): Promise<UploadStatus> {
    return this.serialised(name, id, async () => {
      await this.session(name, id);
      const digester = this.digesters.get(key(name, id));
      const size = await this.receivedBytes(name, id);
      if (digester && digester.size !== size) this.drop(key(name, id));
      return { id, size };
    });
  }

  /** Appends a chunk (or a streamed body when `range` is undefined). RANGE_INVALID when it does not start at the current end. */
  async append(name: string, id: string, body: AsyncIterable<Uint8Array>, range?: ChunkRange): Promise<UploadStatus> {
    return this.serialised(name, id, async () => {
      await this.materialise(name, id, await this.session(name, id));
      const writer = await this.openWriter(name, id);
      try {
        // a session's first chunk: its 202 promises the session, which start() may have left volatile
        if (writer.size === 0) await this.storage.driver.persist?.(this.layout.uploadStartedAt(name, id));
        await this.writeChunk(name, id, writer, body, range);
      } catch (err) {
        throw await this.overtaken(name, id, err);
      } finally {
        await writer.close();
      }
      return { id, size: writer.size };
    });
  }

  /**
   * Writes the last chunk (if any), verifies the whole content against `expected`, and only then
   * moves it to its content address and links it into the repository. A failed verification
   * cancels the session: nothing becomes visible. So does a refusal by `admit` (the quota), asked with
   * the verified blob before it is linked: what it admits is committed once linked, released otherwise.
   */
  async finish(name: string, id: string, expected: Digest, body: AsyncIterable<Uint8Array> | undefined, range?: ChunkRange, admit?: Admit): Promise<BlobDescriptor> {
    return this.serialised(name, id, async () => {
      const session = await this.session(name, id);
      // A session that received nothing and is closed with the whole blob in the body (POST, then PUT
      // ?digest= with the data): a small blob goes to the blob store whole, never to the session's data.
      if (body && range === undefined && (!session.stored || (await this.receivedBytes(name, id)) === 0)) {
        const read = await readSmallBody(body);
        if (read.small && !session.stored) {
          // nothing in storage to remove: the session ends here, whatever the blob's verification says
          this.close(name, id);
          return this.storeWhole(name, expected, read.bytes, admit);
        }
        if (read.small) {
          // the session holds nothing the blob needs: it is removed side by side with storing the blob (the
          // removal is no acknowledgement, and a folder's removal waits on ext4 for a journal commit)
          const removed = this.cancel(name, id, false);
          removed.catch(() => undefined);
          try {
            const blob = await this.storeWhole(name, expected, read.bytes, admit);
            await removed;
            return blob;
          } catch (err) {
            await removed.catch(() => undefined);
            throw err;
          }
        }
        body = read.body;
      }
      await this.materialise(name, id, session);
      return this.finishSession(name, id, expected, body, range, admit);
    });
  }

  /**
   * A monolithic push (POST ?digest= with the blob as body): a small blob is verified in memory and stored
   * whole, with no upload session at all; a larger one goes through a session like any upload, which is
   * cancelled when it fails.
   */
  async push(name: string, expected: Digest, body: AsyncIterable<Uint8Array>, algorithm: DigestAlgorithm, admit?: Admit): Promise<BlobDescriptor> {
    const read = await readSmallBody(body);
    if (read.small) return this.storeWhole(name, expected, read.bytes, admit);
    const { id } = await this.startStored(name, algorithm);
    try {
      return await this.serialised(name, id, () => this.finishSession(name, id, expected, read.body, undefined, admit));
    } catch (err) {
      await this.cancel(name, id, false).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Verifies `bytes` against `expected`, then stores them at the blob's content address with one putContent
   * (written beside its place and renamed in: never partly visible) side by side with the repository's link.
   * Nothing is held for it, so a refusal (of the digest or by the quota) has nothing to undo.
   */
  private async storeWhole(name: string, expected: Digest, bytes: Buffer, admit: Admit | undefined): Promise<BlobDescriptor> {
    const actual = digestBytes(bytes, expected.algorithm);
    if (actual !== expected.value) throw digestMismatch(expected, actual);
    const blobPath = this.layout.blobData(expected);
    return this.admitAndLink(name, expected, { digest: expected.value, size: bytes.length }, admit, async () => undefined, async () => {
      if ((await this.storage.sizeOf(blobPath)) === undefined) await this.storage.driver.putContent(blobPath, bytes);
    });
  }

  /**
   * Asks `admit` (the quota) about the verified blob, then puts the blob in place and links it into the
   * repository side by side, each durable before the answer: a link whose blob is not (yet) in place reads as
   * an unknown blob (BlobStore.stat checks both), so neither order is ever visible as a broken blob, and the
   * push waits for one chain of syncs instead of two. What `admit` admitted is committed once linked,
   * released otherwise; `refused` runs when it refuses.
   */
  private async admitAndLink(name: string, expected: Digest, blob: BlobDescriptor, admit: Admit | undefined, refused: () => Promise<void>, placeBlob: () => Promise<void>): Promise<BlobDescriptor> {
    let admission: UploadAdmission | undefined;
    try {
      admission = admit?.(blob);
    } catch (err) {
      await refused();
      throw err;
    }
    // both settle before a failure is thrown: the caller may close the writer the blob is committed from
    const outcomes = await Promise.allSettled([placeBlob(), this.storage.writeLink(this.layout.layerLink(name, expected), expected)]);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) {
      admission?.release();
      throw failed.reason;
    }
    admission?.commit();
    return blob;
  }

  /**
   * The session's data path of finish: write the last chunk, verify, commit into the blob store and link.
   * When this process hashed every byte, the blob is verified before anything is committed, and the writer
   * commits it straight to its content address where the driver can (`commitTo`: no rename and folder sync
   * inside the session first); otherwise the data is committed in the session, hashed from storage and
   * moved. The session's removal starts once the blob is in place and runs beside the link's syncs.
   */
  private async finishSession(name: string, id: string, expected: Digest, body: AsyncIterable<Uint8Array> | undefined, range: ChunkRange | undefined, admit: Admit | undefined): Promise<BlobDescriptor> {
    const dataPath = this.layout.uploadData(name, id);
    const writer = await this.openWriter(name, id);
    try {
      if (body) {
        try {
          await this.writeChunk(name, id, writer, body, range);
        } catch (err) {
          throw await this.overtaken(name, id, err);
        }
      }
      const size = writer.size;
      let actual = await this.runningDigest(name, id, expected, size);
      let committed = false;
      const commit = async (how: () => Promise<void>): Promise<void> => {
        try {
          await how();
        } catch (err) {
          throw await this.overtaken(name, id, err);
        }
        committed = true;
      };
      if (actual === undefined) {
        await commit(() => writer.commit());
        this.logger.debug({ repository: name, upload: id }, 're-hashing upload data from storage');
        actual = (await digestStream(await this.storage.driver.reader(dataPath, 0), expected.algorithm)).digest;
      }
      /** Ends the session with nothing of it kept: its writer first (no sync of bytes about to go). */
      const discard = async (): Promise<void> => {
        if (!committed) await writer.cancel().catch(() => undefined);
        await this.cancel(name, id, false);
      };
      if (actual !== expected.value) {
        await discard();
        throw digestMismatch(expected, actual);
      }

      const blobPath = this.layout.blobData(expected);
      let removal: Promise<void> | undefined;
      const blob = await this.admitAndLink(name, expected, { digest: expected.value, size }, admit, discard, async () => {
        if ((await this.storage.sizeOf(blobPath)) !== undefined) {
          // the blob store has it already: the session's bytes go with the session
          if (!committed) await writer.cancel();
        } else if (committed) {
          await this.storage.driver.move(dataPath, blobPath);
        } else if (writer.commitTo) {
          await commit(() => writer.commitTo!(blobPath));
        } else {
          await commit(() => writer.commit());
          await this.storage.driver.move(dataPath, blobPath);
        }
        removal = this.cancel(name, id, false);
        removal.catch(() => undefined);
      });
      await removal;
      return blob;
    } finally {
      await writer.close().catch(() => undefined);
    }
  }

  /** The digest of the running hash, when this process hashed every byte of the session; else undefined. */
  private async runningDigest(name: string, id: string, expected: Digest, size: number): Promise<string | undefined> {
    const digester = this.digesters.get(key(name, id));
    if (!digester || digester.algorithm !== expected.algorithm || digester.size !== size || digester.lost) return undefined;
    // a hash lost with its thread meanwhile is not a failure of the upload: storage holds the bytes
    return digester.digest().catch(() => undefined);
  }

  /**
   * Discards the session and everything it received. `mustExist`: a client's DELETE, which for a session with
   * a self-proving id writes a durable record that it ended (`recordClosed`) before its folder goes, since
   * without one its id would still verify; the session's own ending after its blob is stored or refused only
   * removes its folder (this process remembers it, `close`).
   */
  async cancel(name: string, id: string, mustExist = true): Promise<void> {
    const session = mustExist ? await this.session(name, id) : undefined;
    this.close(name, id);
    if (session?.token) await this.recordClosed(name, id, session.token);
    await this.storage.deleteIfPresent(this.layout.upload(name, id));
  }

  /**
   * Writes (durably) that the session `id` of `name` ended, when its id proves itself and is still valid, so
   * that it stays unknown once its folder is gone: a client's DELETE, and upload purging before it removes
   * the folder. The record holds the session's start time, by which `purgeClosedRecords` removes it.
   */
  async recordClosed(name: string, id: string, token?: VerifiedToken): Promise<void> {
    token ??= isTokenShaped(id) ? await this.tokens.verify(this.storage, this.layout, name, id) : undefined;
    if (!token) return;
    this.close(name, id);
    await this.storage.driver.putContent(this.layout.closedUpload(closedRecordName(name, id)), encoder.encode(rfc3339(token.startedAt)));
  }

  /** Removes the records of ended sessions whose ids have expired (nothing can name them any more); answers their paths. */
  async purgeClosedRecords(dryRun: boolean): Promise<string[]> {
    const now = this.tokens.now();
    const expired: string[] = [];
    for (const path of (await this.storage.listOrUndefined(this.layout.closedUploads())) ?? []) {
      const content = await this.storage.getOrUndefined(path);
      const started = startedAtMs(content);
      if (!Number.isNaN(started) && started >= now - TOKEN_LIFETIME_MS) continue;
      expired.push(path);
      if (!dryRun) await this.storage.deleteIfPresent(path);
    }
    return expired;
  }

  /** The session ends in this process: its running hash goes, and a self-proving id is refused from now on. */
  private close(name: string, id: string): void {
    const k = key(name, id);
    this.drop(k);
    if (!isTokenShaped(id)) return;
    this.finished.add(k);
    while (this.finished.size > MAX_FINISHED) this.finished.delete(this.finished.values().next().value as string);
  }

  private async writeChunk(name: string, id: string, writer: FileWriter, body: AsyncIterable<Uint8Array>, range?: ChunkRange): Promise<void> {
    const k = key(name, id);
    if (range && range.start !== writer.size) {
      throw new RegistryError('RANGE_INVALID', `chunk starts at ${range.start} but the upload has ${writer.size} bytes`, { size: writer.size });
    }
    let digester = this.digesters.get(k);
    if (digester && (digester.size !== writer.size || digester.lost)) {
      // another process wrote to this session (or the hash thread died): the hash is re-computed from storage at the end
      this.drop(k);
      digester = undefined;
    }
    if (!digester && writer.size === 0) {
      digester = this.hasher.open('sha256');
      this.remember(k, digester);
    }
    try {
      await writeBody(body, writer, digester ? (batch) => digester.update(batch) : ignore);
    } catch (err) {
      this.drop(k);
      throw err;
    }
  }

  /**
   * A writer refused as at a wrong offset (INVALID_OFFSET) was overtaken: a request elsewhere (another
   * process) continued the session from the same size first. The chunk is refused like one at a wrong
   * offset, RANGE_INVALID (416) with the size the session now has, and nothing of it was stored.
   */
  private async overtaken(name: string, id: string, err: unknown): Promise<unknown> {
    if (storageErrorCode(err) !== 'INVALID_OFFSET') return err;
    this.drop(key(name, id));
    const size = await this.receivedBytes(name, id);
    return new RegistryError('RANGE_INVALID', `another request continued this upload first; it now has ${size} bytes`, { size }, { cause: err });
  }

  /** Drops what this process holds for a session removed elsewhere (by upload purging). */
  forget(name: string, id: string): void {
    this.drop(key(name, id));
  }

  private remember(k: string, digester: UploadHash): void {
    this.drop(k);
    this.digesters.set(k, digester);
    // abandoned sessions must not grow the map without bound: drop the oldest
    while (this.digesters.size > MAX_RUNNING_HASHES) this.drop(this.digesters.keys().next().value as string);
  }

  /** Forgets a session's running hash and frees what the hash thread holds for it. */
  private drop(k: string): void {
    this.digesters.get(k)?.dispose();
    this.digesters.delete(k);
  }

  /**
   * Where the session stands, or BLOB_UPLOAD_UNKNOWN. A self-proving id with no folder is a session that has
   * received nothing (two stats: the small push's PUT), unless a record says it ended (cancelled or purged).
   */
  private async session(name: string, id: string): Promise<Session> {
    const k = key(name, id);
    // A running hash is kept only for a session this process opened (`start` issued its id) or verified before
    // (a chunk of it), for this repository: its id needs no MAC again, only the age check.
    const token = isTokenShaped(id) ? (this.digesters.has(k) ? this.tokens.knownStart(id) : await this.tokens.verify(this.storage, this.layout, name, id)) : undefined;
    if (token) {
      if (this.finished.has(k)) throw uploadUnknown(name, id);
      const stored = await this.storage.exists(this.layout.uploadStartedAt(name, id));
      // a record is written before the folder goes: with both (a crash between), the record wins
      if (await this.storage.exists(this.layout.closedUpload(closedRecordName(name, id)))) throw uploadUnknown(name, id);
      return { token, stored };
    }
    if (!(await this.storage.exists(this.layout.uploadStartedAt(name, id)))) throw uploadUnknown(name, id);
    return { stored: true };
  }

  /** What the session holds, read without a writer: a status read must never write (another process may be appending). */
  private async receivedBytes(name: string, id: string): Promise<number> {
    // a fresh session (every small push's PUT), or one started elsewhere, has no data yet
    return (await this.storage.uploadSizeIfPresent(this.layout.uploadData(name, id))) ?? 0;
  }

  private async openWriter(name: string, id: string): Promise<FileWriter> {
    const dataPath = this.layout.uploadData(name, id);
    try {
      return await this.storage.driver.writer(dataPath, true);
    } catch (err) {
      // a session started elsewhere may have no data yet
      if (isPathNotFound(err)) return this.storage.driver.writer(dataPath, false);
      throw err;
    }
  }

  private async serialised<T>(name: string, id: string, work: () => Promise<T>): Promise<T> {
    const k = key(name, id);
    const previous = this.queues.get(k) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(k, settled);
    void settled.then(() => {
      if (this.queues.get(k) === settled) this.queues.delete(k);
    });
    return run;
  }
}

const key = (name: string, id: string): string => `${name}\u0000${id}`;

function uploadUnknown(name: string, id: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known to repository ${name}`, { upload: id });
}
const ignore = (): undefined => undefined;

/** DIGEST_INVALID for content that hashes to `actual` where the client named `expected`. */
function digestMismatch(expected: Digest, actual: string): RegistryError {
  return new RegistryError('DIGEST_INVALID', `uploaded content has digest ${actual}, not ${expected.value}`, { expected: expected.value, actual });
}
