/**
 * Single flight for blobs fetched from an upstream: one upstream GET per digest, however many clients
 * pull it meanwhile. The bytes go three ways as they arrive: into an upload session in storage (verified
 * and committed at the end by the registry's own upload code), into a spool file on local disk, and from
 * the spool to every client following the flight, each at its own pace. Memory stays flat whatever the
 * blob's size: followers read the spool by position, nothing is buffered per client.
 *
 * A follower is held one byte short of the end until the flight's verdict: when the digest does not match,
 * or the upstream breaks off, the upload is cancelled (nothing is stored) and every follower's stream fails,
 * so each client sees its response cut rather than a complete-looking wrong or truncated body.
 *
 * A quota that cannot take the blob refuses it once the upstream has said its size (Content-Length), before
 * any client's answer starts: each repository the flight stores into is admitted then, and the room it holds
 * is committed when the blob is linked there, released when it is not.
 */
import { randomUUID } from 'node:crypto';
import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Digest } from '../digest.js';
import { RegistryError } from '../errors.js';
import type { RegistryLogger } from '../logger.js';
import { discardBody, UpstreamError, type UpstreamBlob } from './upstream.js';

/** bytes a follower reads from the spool at once */
const FOLLOW_CHUNK = 1024 * 1024;
const SPOOL_PREFIX = 'stowage-mirror-';
/** a spool file untouched this long was left by a process that died mid-fetch (a live flight writes it all along) */
const STALE_SPOOL_MS = 24 * 3600_000;

/** Room a quota holds for a blob until it is linked: committed once linked, released otherwise. */
export interface FetchAdmission {
  commit(): void;
  release(): void;
}

/** where fetched bytes are committed (src/registry/mirror/pull-through.ts backs it with the upload sessions) */
export interface FetchedBlobStore {
  /** admits `size` bytes of blob `digest` into `name` (its quota); throws (403 DENIED) to refuse, before any byte is answered */
  admit(name: string, digest: Digest, size: number): Promise<FetchAdmission>;
  /** stores `body` as blob `digest` linked into `name`, verifying the digest, under what `admit` admitted; stores nothing when it throws */
  store(name: string, digest: Digest, body: AsyncIterable<Uint8Array>, admitted: FetchAdmission): Promise<void>;
  /** links an already stored blob into `name`, under what `admit` admitted when given */
  link(name: string, digest: Digest, admitted?: FetchAdmission): Promise<void>;
}

export interface FlightStart {
  /** the upstream GET; called once for the flight */
  open(): Promise<UpstreamBlob>;
  /**
   * called instead of `open` when `name` joins a flight another repository started: confirms the upstream
   * serves this digest to `name` too (a HEAD), so no repository reads a blob its upstream would refuse it
   */
  confirm(): Promise<void>;
}

export class BlobFlight {
  /** bytes received so far (all in the spool) */
  written = 0;
  private outcome: 'running' | 'committed' | 'failed' = 'running';
  private failure: unknown;
  private waiters: (() => void)[] = [];
  private followers = 0;
  private finished = false;
  private released = false;
  /** repositories the blob is linked into once stored, with what their quota admitted; closed when the linking starts */
  private readonly names = new Map<string, FetchAdmission>();
  private namesClosed = false;

  constructor(
    readonly digest: Digest,
    readonly size: number,
    readonly startedBy: string,
    admitted: FetchAdmission,
    private readonly spool: FileHandle,
    private readonly spoolPath: string,
  ) {
    this.names.set(startedBy, admitted);
  }

  get running(): boolean {
    return this.outcome === 'running';
  }

  get failed(): boolean {
    return this.outcome === 'failed';
  }

  /**
   * adds a repository to link the blob into under `admitted`; false when too late (the caller links it
   * itself). A repository already added keeps its first admission: this one is released.
   */
  addName(name: string, admitted: FetchAdmission): boolean {
    if (this.names.has(name)) {
      admitted.release();
      return true;
    }
    if (this.namesClosed) return false;
    this.names.set(name, admitted);
    return true;
  }

  /** Copies the upstream body into the store and the spool; settles when the flight is decided. */
  async run(body: Readable, store: FetchedBlobStore, logger: RegistryLogger): Promise<void> {
    try {
      await store.store(this.startedBy, this.digest, this.tee(body), this.names.get(this.startedBy)!);
      this.namesClosed = true;
      this.outcome = 'committed';
      this.wake();
      for (const [name, admitted] of this.names) {
        if (name === this.startedBy) continue;
        await store.link(name, this.digest, admitted).catch((err: unknown) => logger.warn({ err, repository: name, digest: this.digest.value }, 'mirror: could not link a fetched blob'));
      }
    } catch (err) {
      this.namesClosed = true;
      for (const admitted of this.names.values()) admitted.release();
      discardBody(body);
      this.failure = err;
      this.outcome = 'failed';
      logger.warn({ err, digest: this.digest.value, repository: this.startedBy }, 'mirror: fetching a blob from the upstream failed; nothing was stored');
    } finally {
      this.finished = true;
      this.wake();
      await this.releaseWhenIdle();
    }
  }

  private async *tee(body: Readable): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      const bytes = chunk as Uint8Array;
      if (this.written + bytes.length > this.size) {
        throw new UpstreamError('invalid', `the upstream sent more than the ${this.size} bytes it announced for blob ${this.digest.value}`);
      }
      await this.spool.write(bytes, 0, bytes.length, this.written);
      this.written += bytes.length;
      this.wake();
      yield bytes;
    }
    if (this.written !== this.size) {
      throw new UpstreamError('unavailable', `the upstream ended blob ${this.digest.value} after ${this.written} of its ${this.size} bytes`);
    }
  }

  /**
   * The blob from `offset`, as it arrives. The stream ends once the blob is stored; it fails (and the
   * client's response is cut) when the flight fails.
   */
  follow(offset: number): Readable {
    this.followers++;
    let position = offset;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      this.followers--;
      void this.releaseWhenIdle();
    };
    const next = async (): Promise<void> => {
      for (;;) {
        if (stream.destroyed) return;
        if (this.outcome === 'failed') {
          stream.destroy(followerFailure(this.digest, this.failure));
          return;
        }
        // the last byte waits for the verdict, so that a client never holds a complete body that was not verified
        const end = this.outcome === 'committed' ? this.size : Math.min(this.written, this.size - 1);
        if (this.outcome === 'committed' && position >= this.size) {
          stream.push(null);
          return;
        }
        if (position < end) {
          const buffer = Buffer.allocUnsafe(Math.min(end - position, FOLLOW_CHUNK));
          const { bytesRead } = await this.spool.read(buffer, 0, buffer.length, position);
          if (stream.destroyed) return;
          if (bytesRead <= 0) throw new Error(`the spool of blob ${this.digest.value} ended at ${position}`);
          position += bytesRead;
          stream.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
          return;
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    };
    const stream = new Readable({
      highWaterMark: FOLLOW_CHUNK,
      read: () => {
        next().catch((err: unknown) => stream.destroy(err as Error));
      },
      destroy: (err, callback) => {
        leave();
        callback(err);
      },
    });
    stream.once('end', leave);
    return stream;
  }

  /** resolves once the flight is decided; rejects with its failure */
  async settled(): Promise<void> {
    while (!this.finished) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.outcome === 'failed') throw this.failure;
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  /** the spool goes once the flight is over and no follower reads it any more */
  private async releaseWhenIdle(): Promise<void> {
    if (!this.finished || this.followers > 0 || this.released) return;
    this.released = true;
    await this.spool.close().catch(() => undefined);
    await unlink(this.spoolPath).catch(() => undefined);
  }
}

/** what a follower's stream fails with: the client's response is cut, the log says why */
function followerFailure(digest: Digest, failure: unknown): RegistryError {
  return new RegistryError('UNAVAILABLE', `fetching blob ${digest.value} from the upstream failed`, undefined, { cause: failure });
}

/** The flights in progress, one per digest. */
export class BlobFetcher {
  /** a promise while the upstream's headers are awaited, so that joiners share the one GET */
  private readonly flights = new Map<string, Promise<BlobFlight>>();
  /** the flights past their headers, for followers that know only the digest */
  private readonly started = new Map<string, BlobFlight>();
  private spoolSwept = false;

  constructor(
    private readonly store: FetchedBlobStore,
    private readonly spoolDir: string,
    private readonly logger: RegistryLogger,
  ) {}

  /** The flight for `digest`, joined or started; resolves once its size is known. */
  async join(name: string, digest: Digest, start: FlightStart): Promise<BlobFlight> {
    const existing = this.flights.get(digest.value);
    if (existing) {
      let flight: BlobFlight;
      try {
        flight = await existing;
      } catch (err) {
        // the repository that started it was refused by its own quota: that says nothing of this one's
        if (!isRefusal(err)) throw err;
        if (this.flights.get(digest.value) === existing) this.flights.delete(digest.value);
        return this.join(name, digest, start);
      }
      if (flight.failed) {
        // a failed flight is not retried for those who joined it, but a newcomer starts afresh
        if (this.flights.get(digest.value) === existing) this.flights.delete(digest.value);
        return this.join(name, digest, start);
      }
      if (flight.startedBy === name) return flight;
      await start.confirm();
      // refused before this client's answer starts, as the repository that started the flight would be
      const admitted = await this.store.admit(name, digest, flight.size);
      if (!flight.addName(name, admitted)) await this.store.link(name, digest, admitted);
      return flight;
    }
    const starting = this.begin(name, digest, start);
    this.flights.set(digest.value, starting);
    // only this flight's own entry goes: a failed flight may already have been replaced by a newer one
    const forget = (): void => {
      if (this.flights.get(digest.value) === starting) this.flights.delete(digest.value);
    };
    starting.then((flight) => flight.settled()).then(forget, forget);
    return starting;
  }

  /** the flight fetching `digest` now, if any */
  current(digest: string): BlobFlight | undefined {
    const flight = this.started.get(digest);
    return flight?.running ? flight : undefined;
  }

  /** removes the spool files processes that died mid-fetch left behind (once, at this process's first fetch) */
  private async sweepStaleSpools(): Promise<void> {
    const names = await readdir(this.spoolDir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.startsWith(SPOOL_PREFIX) || !name.endsWith('.part')) continue;
      const file = path.join(this.spoolDir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_SPOOL_MS) {
        await unlink(file).catch(() => undefined);
        this.logger.info({ file }, 'mirror: removed a spool file a stopped process left');
      }
    }
  }

  private async begin(name: string, digest: Digest, start: FlightStart): Promise<BlobFlight> {
    const upstream = await start.open();
    if (upstream.size === undefined) {
      discardBody(upstream.body);
      throw new UpstreamError('invalid', `the upstream sent blob ${digest.value} without a Content-Length`);
    }
    let admitted: FetchAdmission;
    try {
      admitted = await this.store.admit(name, digest, upstream.size);
    } catch (err) {
      discardBody(upstream.body);
      throw err;
    }
    if (!this.spoolSwept) {
      this.spoolSwept = true;
      void this.sweepStaleSpools();
    }
    const spoolPath = path.join(this.spoolDir, `${SPOOL_PREFIX}${randomUUID()}.part`);
    let spool: FileHandle;
    try {
      spool = await open(spoolPath, 'w+', 0o600);
    } catch (err) {
      admitted.release();
      discardBody(upstream.body);
      throw err;
    }
    const flight = new BlobFlight(digest, upstream.size, name, admitted, spool, spoolPath);
    this.started.set(digest.value, flight);
    void flight.run(upstream.body, this.store, this.logger).finally(() => {
      if (this.started.get(digest.value) === flight) this.started.delete(digest.value);
    });
    return flight;
  }
}

/** a quota's refusal (403 DENIED from `admit`), which is the refused repository's alone */
const isRefusal = (err: unknown): boolean => err instanceof RegistryError && err.code === 'DENIED';
