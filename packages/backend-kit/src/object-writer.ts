/**
 * A resumable writer over multipart uploads. Whole parts go to the service as soon as they fill; less
 * than a part stays in memory (never more than one part). On close the writer saves its state next to
 * the object, as `<key>~upload` (JSON: upload id, part size, part ETags and sizes, and the name of its
 * tail) and `<key>~tail.<size>` (the bytes short of a part, one immutable object per state, so a reader
 * never pairs a state with another state's tail), so a writer reopened later, in this process or
 * another, continues where it stopped. `~` cannot occur in a stowage path, so these sidecars never
 * collide with content and the driver hides them from listings. Content too small for one part is
 * committed with a single PUT.
 *
 * Two writers may open the same upload at the same size (two registry processes, one client retrying
 * elsewhere). Before its first byte reaches the service, a writer claims the size it starts from
 * (`<key>~claim.<size>`), with the store's create-only write where it has one (S3 `If-None-Match: *`,
 * OSS `x-oss-forbid-overwrite`, Swift `If-None-Match: *`), else with an object of its own and a
 * listing that must show it alone. Only one writer can hold a claim, so only one continues from a given
 * size: the other is refused with `refuse(size)` (INVALID_OFFSET, 416 at the API) and saves nothing, and
 * no acknowledged byte is overwritten. A commit claims too, so a stale writer cannot complete an upload
 * another writer has moved on. A claim whose holder is gone (a process killed mid-append, see
 * claim-lease.ts) is taken over by one writer, so that the client's retry at that size goes on: by a
 * create-only claim of the next generation (`<key>~claim.<size>.<n>`), or, without create-only writes,
 * by removing the abandoned claim before the listing check.
 */
import type { FileWriter } from 'stowage';
import { CLAIM_RENEW_MS, type ClaimRecord, claimGeneration, claimIsAbandoned, claimNameOf, encodeClaimRecord, newClaimRecord } from './claim-lease.js';
import { keysUnder, type ObjectStore, storageFailed } from './object-store.js';
import { partSizeAfter } from './part-size.js';
import { PendingBytes } from './pending-bytes.js';
import { withoutSignal } from './signal-scope.js';

export interface SavedUpload {
  readonly uploadId?: string;
  readonly partSize?: number;
  readonly parts: readonly { readonly etag: string; readonly size: number }[];
  readonly tail: number;
  /** where the tail's bytes are; states saved before tails were per state name `<key>~tail` */
  readonly tailKey?: string;
}

export const uploadStateKey = (key: string): string => `${key}~upload`;
/** The tail of the state whose upload holds `size` bytes (`<key>~tail` alone: the name of older states). */
export const uploadTailKey = (key: string, size?: number): string => (size === undefined ? `${key}~tail` : `${key}~tail.${String(size).padStart(16, '0')}`);
const claimPrefix = (key: string): string => `${key}~claim.`;
const claimKey = (key: string, size: number): string => `${claimPrefix(key)}${String(size).padStart(16, '0')}`;

/** The saved state of the upload at `key` (without its tail's bytes), or undefined when none is saved. */
export async function loadSavedUploadState(store: ObjectStore, key: string): Promise<SavedUpload | undefined> {
  const raw = await store.get(uploadStateKey(key));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as SavedUpload;
  } catch (err) {
    throw storageFailed(`the saved upload state of ${key} is not JSON`, err);
  }
}

/** The bytes a saved upload holds: its parts and its tail. */
export const savedUploadSize = (state: SavedUpload): number => state.parts.reduce((sum, part) => sum + part.size, 0) + state.tail;

export async function loadSavedUpload(store: ObjectStore, key: string): Promise<{ state: SavedUpload; tail: Buffer } | undefined> {
  // A writer elsewhere may save a new state and drop the old tail between our two reads: read again once.
  for (let attempt = 0; ; attempt += 1) {
    const state = await loadSavedUploadState(store, key);
    if (!state) return undefined;
    if (state.tail === 0) return { state, tail: Buffer.alloc(0) };
    const stored = await store.get(state.tailKey ?? uploadTailKey(key));
    if (stored && stored.length === state.tail) return { state, tail: stored };
    if (attempt > 0) throw storageFailed(`the saved tail of the upload of ${key} is missing or truncated`);
  }
}

/** Every sidecar of the upload at `key`: state, tails, claims. */
async function sidecarKeys(store: ObjectStore, key: string): Promise<string[]> {
  return [uploadStateKey(key), ...(await keysUnder(store, uploadTailKey(key))), ...(await keysUnder(store, claimPrefix(key)))];
}

/** Aborts the multipart upload a saved state names and removes the sidecars. */
export async function discardSavedUpload(store: ObjectStore, key: string, state?: SavedUpload): Promise<void> {
  const saved = state ?? (await loadSavedUploadState(store, key).catch(() => undefined));
  if (saved?.uploadId) await store.abortMultipart(key, saved.uploadId).catch(() => undefined);
  await store.deleteKeys(await sidecarKeys(store, key));
}

export interface ObjectWriterOptions {
  /** the error for a writer that lost the claim on the size it started from (another writer continued from it) */
  readonly refuse?: (size: number) => Error;
}

export class ObjectWriter implements FileWriter {
  private uploadId: string | undefined;
  private partSize: number;
  private readonly parts: { etag: string; size: number }[];
  private readonly pending = new PendingBytes();
  private savedTail: number;
  /** every byte this writer holds, uploaded or pending; stays put through close and commit */
  private written: number;
  private done: 'open' | 'closed' | 'committed' | 'cancelled' | 'refused' = 'open';
  /** whether this writer was given any byte: one that was not leaves the saved state as it found it */
  private dirty = false;
  /** the size this writer started from, which it must claim before anything reaches the service */
  private readonly startedAt: number;
  private claimed: Promise<void> | undefined;
  /** the claim object this writer holds, until the state it saved or the commit makes it history */
  private claimName: string | undefined;
  /** the generation of the create-only claim this writer holds (undefined: a claim checked by listing) */
  private claimGeneration: number | undefined;
  private claimRecord: ClaimRecord | undefined;
  private readonly savedTailKey: string | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    saved?: { state: SavedUpload; tail: Buffer },
    private readonly options: ObjectWriterOptions = {},
  ) {
    this.uploadId = saved?.state.uploadId;
    this.partSize = saved?.state.partSize ?? store.partSizeHint;
    this.parts = [...(saved?.state.parts ?? [])];
    this.savedTail = saved?.state.tail ?? 0;
    this.savedTailKey = saved && saved.state.tail > 0 ? (saved.state.tailKey ?? uploadTailKey(key)) : undefined;
    if (saved && saved.tail.length > 0) this.pending.append(saved.tail, this.nextPartSize());
    this.written = this.parts.reduce((sum, part) => sum + part.size, 0) + this.pending.size;
    this.startedAt = this.written;
  }

  /** Takes the claim on the size this writer started from, once; refuses the writer if another holds it. */
  private claim(): Promise<void> {
    this.claimed ??= (async () => {
      const name = claimKey(this.key, this.startedAt);
      const record = newClaimRecord();
      const body = encodeClaimRecord(record);
      const created = this.store.putIfAbsent ? await this.store.putIfAbsent(name, body) : 'unsupported';
      let held: string | undefined;
      if (created === true) {
        held = name;
        this.claimGeneration = 0;
      } else if (created === false) {
        // taken: by a live writer (refused), or by one that is gone (the next generation is taken over)
        const latest = await this.latestClaim(name);
        if (latest && (await this.abandoned(latest.key, latest.modified))) {
          const next = claimNameOf(name, latest.generation + 1);
          if ((await this.store.putIfAbsent!(next, body)) === true) {
            held = next;
            this.claimGeneration = latest.generation + 1;
          }
        }
      } else {
        // No create-only write: each writer adds its own claim and keeps it only if a listing shows no other
        // claim of a live writer (abandoned ones are removed first).
        const mine = `${name}.${record.token}`;
        await this.store.put(mine, body);
        const page = await this.store.list(`${name}.`, '', undefined, 100);
        const others = page.objects.filter((object) => object.key !== mine);
        const gone: string[] = [];
        for (const other of others) if (await this.abandoned(other.key, other.modified)) gone.push(other.key);
        if (gone.length > 0) await this.store.deleteKeys(gone);
        if (gone.length === others.length && !page.nextMarker) held = mine;
        else await this.store.deleteKeys([mine]);
      }
      if (!held) this.refused();
      this.claimName = held;
      this.claimRecord = record;
    })();
    return this.claimed;
  }

  private refused(): never {
    this.done = 'refused';
    throw this.options.refuse?.(this.startedAt) ?? storageFailed(`another writer continued the upload of ${this.key} from ${this.startedAt} bytes`);
  }

  /** The newest generation of the create-only claims on `name`'s size. */
  private async latestClaim(name: string): Promise<{ key: string; generation: number; modified: Date } | undefined> {
    let latest: { key: string; generation: number; modified: Date } | undefined;
    let marker: string | undefined;
    do {
      const page = await this.store.list(name, '', marker, 1000);
      for (const object of page.objects) {
        const generation = claimGeneration(object.key, name);
        if (generation !== undefined && (!latest || generation > latest.generation)) latest = { key: object.key, generation, modified: object.modified };
      }
      marker = page.nextMarker;
    } while (marker);
    return latest;
  }

  private async abandoned(key: string, modified: Date): Promise<boolean> {
    return claimIsAbandoned(await this.store.get(key), modified);
  }

  /**
   * Renews the claim this writer holds when it is due, after checking nobody took it over (which happens
   * only to a writer stalled past the lease); a writer taken over is refused and saves nothing.
   */
  private async keepClaim(): Promise<void> {
    const name = this.claimName;
    const record = this.claimRecord;
    if (!name || !record || Date.now() - record.renewedAt < CLAIM_RENEW_MS) return;
    if (this.claimGeneration !== undefined) {
      const latest = await this.latestClaim(claimKey(this.key, this.startedAt));
      if (latest?.generation !== this.claimGeneration) this.refused();
    } else if (!(await this.store.head(name))) {
      this.refused();
    }
    this.claimRecord = { ...record, renewedAt: Date.now() };
    await this.store.put(name, encodeClaimRecord(this.claimRecord));
  }

  /**
   * Gives the claim back when this writer failed before its state or commit took effect, so that the
   * upload can be continued from the same size by the next request rather than refused for ever.
   */
  private async release(): Promise<void> {
    const name = this.claimName;
    this.claimName = undefined;
    if (name) await this.store.deleteKeys([name]).catch(() => undefined);
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen();
    if (chunk.length === 0) return;
    await this.claim();
    await this.keepClaim();
    this.dirty = true;
    // copied: the caller may reuse its buffer once this promise resolves
    this.pending.append(chunk, this.nextPartSize());
    this.written += chunk.length;
    while (this.pending.size >= this.nextPartSize()) {
      if (!this.uploadId) {
        // Not cut short by the caller's signal: a service that created the upload before the client went away
        // would keep it open (and billed) for ever if the writer never learnt its id to save or abort.
        const upload = await withoutSignal(() => this.store.initMultipart(this.key));
        this.uploadId = upload.uploadId;
        this.partSize = upload.partSize;
        if (this.pending.size < this.nextPartSize()) break;
      }
      const part = this.pending.take(this.nextPartSize());
      try {
        await this.uploadPart(part);
      } catch (err) {
        // The bytes stay the writer's: a close after the failure saves them in the tail, never a state that skips them.
        this.pending.putBack(part);
        throw err;
      }
      this.pending.giveBack();
    }
  }

  private nextPartSize(): number {
    return this.store.growingParts ? partSizeAfter(this.parts.length, this.partSize) : this.partSize;
  }

  async close(): Promise<void> {
    if (this.done !== 'open') return;
    this.done = 'closed';
    // Nothing written, nothing to save: a close must never rewrite a state another writer may have moved on.
    if (!this.dirty) return;
    const tail = this.pending.take(this.pending.size);
    const tailKey = tail.length > 0 ? uploadTailKey(this.key, this.written) : undefined;
    await this.keepClaim();
    const state: SavedUpload = { uploadId: this.uploadId, partSize: this.partSize, parts: this.parts, tail: tail.length, ...(tailKey ? { tailKey } : {}) };
    try {
      if (tailKey) await this.store.put(tailKey, tail);
      await this.store.put(uploadStateKey(this.key), Buffer.from(JSON.stringify(state)));
    } catch (err) {
      await this.release();
      throw err;
    }
    if (this.savedTailKey && this.savedTailKey !== tailKey) await this.store.deleteKeys([this.savedTailKey]);
  }

  async cancel(): Promise<void> {
    this.assertOpen();
    this.done = 'cancelled';
    this.pending.clear();
    this.written = 0;
    if (this.uploadId) await this.store.abortMultipart(this.key, this.uploadId).catch(() => undefined);
    await this.store.deleteKeys(await sidecarKeys(this.store, this.key));
  }

  async commit(): Promise<void> {
    this.assertOpen();
    await this.claim();
    await this.keepClaim();
    try {
      if (!this.uploadId) {
        await this.store.put(this.key, this.pending.take(this.pending.size));
      } else {
        if (this.pending.size > 0 || this.parts.length === 0) await this.uploadPart(this.pending.take(this.pending.size));
        await this.store.completeMultipart(this.key, this.uploadId, this.parts, this.written);
      }
    } catch (err) {
      // Nothing of this writer is kept (what it took from the request was not acknowledged), and the size
      // it started from is free again for the next attempt.
      this.done = 'closed';
      await this.release();
      throw err;
    }
    this.done = 'committed';
    await this.store.deleteKeys(await sidecarKeys(this.store, this.key));
  }

  private async uploadPart(data: Buffer): Promise<void> {
    const etag = await this.store.uploadPart(this.key, this.uploadId!, this.parts.length, data);
    this.parts.push({ etag, size: data.length });
  }

  private assertOpen(): void {
    if (this.done !== 'open') throw storageFailed(`the writer for ${this.key} is already ${this.done}`);
  }
}
