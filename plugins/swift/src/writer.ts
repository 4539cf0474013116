/**
 * The resumable writer. Bytes go to segment objects of at most `chunksize` bytes; the list of
 * segments lives in a small state object (`<prefix>/pending<path>`), so a writer closed by one
 * process is continued by another. Nothing is visible at the path until commit, which writes the
 * object itself (small content) or a Static Large Object manifest over the segments, so objects
 * larger than Swift's 5 GB limit work. Swift verifies every segment's MD5 and the manifest's segment
 * list, so a damaged or missing segment fails the commit instead of becoming visible.
 */
import { randomBytes } from 'node:crypto';
import { PartedWriter, partSizeAfter } from '@stowage/backend-kit';
import type { SegmentRef, SwiftStore } from './store.js';

export interface PendingState {
  readonly version: 1;
  /** every segment this writer chain made lives under it (cancel and delete list it) */
  readonly segmentPrefix: string;
  readonly next: number;
  readonly segments: readonly SegmentRef[];
  /** segments that belong to a committed object this upload appends to: never deleted on cancel */
  readonly borrowed: number;
}

export interface WriterNames {
  readonly object: string;
  readonly pending: string;
  readonly segmentRoot: string;
}

export const newSegmentPrefix = (segmentRoot: string): string => `${segmentRoot}/${randomBytes(16).toString('hex')}`;

/**
 * Two writers opened at one size (two processes) would name their next segment alike and the second
 * would overwrite the first one's. So before its first byte a writer claims the size it starts from,
 * `<pending>~claim.<size>`, with `If-None-Match: *`: only one writer continues from a size, the other is
 * refused (INVALID_OFFSET, 416 at the API) having written nothing. Claims go with the upload.
 */
const claimPrefix = (pendingName: string): string => `${pendingName}~claim.`;

async function removeClaims(store: SwiftStore, pendingName: string): Promise<void> {
  const claims: string[] = [];
  for await (const entry of store.list(claimPrefix(pendingName))) if (entry.name) claims.push(entry.name);
  await store.deleteMany(claims);
}

export async function readPendingState(store: SwiftStore, pendingName: string, signal?: AbortSignal): Promise<PendingState | undefined> {
  const body = await store.get(pendingName, signal);
  if (!body) return undefined;
  const state = JSON.parse(body.toString('utf8')) as PendingState;
  if (state.version !== 1 || !Array.isArray(state.segments)) throw new Error(`unreadable upload state in ${pendingName}`);
  return state;
}

/** Removes an upload's state and every segment it made (borrowed segments stay). */
export async function discardPending(store: SwiftStore, pendingName: string, state: PendingState): Promise<void> {
  const own: string[] = [];
  for await (const entry of store.list(state.segmentPrefix + '/')) if (entry.name) own.push(entry.name);
  await store.deleteOne(pendingName);
  await store.deleteMany(own);
  await removeClaims(store, pendingName);
}

export class SwiftFileWriter extends PartedWriter {
  private segments: SegmentRef[];
  private next: number;
  private readonly segmentPrefix: string;
  private readonly borrowed: number;
  /** segments replaced by a rewrite of the last, short one; deleted once the new state is saved */
  private obsolete: string[] = [];
  private readonly startedAt: number;
  private claimed: Promise<void> | undefined;
  private claimName: string | undefined;

  constructor(
    private readonly store: SwiftStore,
    private readonly names: WriterNames,
    private readonly chunkSize: number,
    state: PendingState | undefined,
    /** bytes that continue the content before anything new is written (a short last segment read back) */
    carried: { data: Buffer; replaces?: string } | undefined,
    /** the error for a writer another writer overtook */
    private readonly refuse: (size: number) => Error,
  ) {
    const segments = [...(state?.segments ?? [])];
    super(`swift writer for ${names.object}`, segments.reduce((sum, s) => sum + s.size, 0), carried?.data);
    this.segments = segments;
    this.segmentPrefix = state?.segmentPrefix ?? newSegmentPrefix(names.segmentRoot);
    this.next = state?.next ?? 1;
    this.borrowed = state?.borrowed ?? 0;
    if (carried?.replaces) this.obsolete.push(carried.replaces);
    this.startedAt = this.size;
  }

  private claim(): Promise<void> {
    this.claimed ??= (async () => {
      const name = `${claimPrefix(this.names.pending)}${String(this.startedAt).padStart(16, '0')}`;
      if (!(await this.store.putIfAbsent(name, Buffer.from(randomBytes(12).toString('hex'))))) {
        this.done = 'cancelled';
        throw this.refuse(this.startedAt);
      }
      this.claimName = name;
    })();
    return this.claimed;
  }

  /** Gives the claim back when this writer failed before its state or commit took effect, so the next request can continue from the same size. */
  private async release(): Promise<void> {
    const name = this.claimName;
    this.claimName = undefined;
    if (name) await this.store.deleteOne(name).catch(() => undefined);
  }

  override async write(chunk: Uint8Array): Promise<void> {
    this.check('write');
    if (chunk.length > 0) await this.claim();
    await super.write(chunk);
  }

  protected nextPartSize(): number {
    return partSizeAfter(this.segments.length, this.chunkSize);
  }

  protected async flushPart(data: Buffer): Promise<void> {
    const name = `${this.segmentPrefix}/${String(this.next).padStart(16, '0')}`;
    const etag = await this.store.put(name, data);
    this.next += 1;
    this.segments.push({ name, etag, size: data.length });
  }

  private state(): PendingState {
    return { version: 1, segmentPrefix: this.segmentPrefix, next: this.next, segments: this.segments, borrowed: this.borrowed };
  }

  /**
   * The tail becomes a short segment of its own (the next writer reads it back and rewrites it full),
   * so the state object holds names only. Not called when nothing was written: the saved state still
   * holds, and a short last segment read back stays as it was.
   */
  protected async save(): Promise<void> {
    try {
      if (this.pendingSize > 0) await this.flushPart(this.take(this.pendingSize));
      await this.store.put(this.names.pending, Buffer.from(JSON.stringify(this.state())), { 'content-type': 'application/json' });
    } catch (err) {
      await this.release();
      throw err;
    }
    await this.store.deleteMany(this.obsolete);
    this.obsolete = [];
  }

  async cancel(): Promise<void> {
    this.check('cancel');
    this.done = 'cancelled';
    await discardPending(this.store, this.names.pending, this.state());
  }

  async commit(): Promise<void> {
    this.check('commit');
    await this.claim();
    let replaced: SegmentRef[];
    let keep: Set<string>;
    try {
      const previous = await this.store.head(this.names.object);
      replaced = previous?.slo ? ((await this.store.manifestSegments(this.names.object)) ?? []) : [];
      if (this.segments.length === 0) {
        await this.store.put(this.names.object, this.take(this.pendingSize));
        keep = new Set();
      } else {
        if (this.pendingSize > 0) await this.flushPart(this.take(this.pendingSize));
        await this.store.putManifest(this.names.object, this.segments);
        keep = new Set(this.segments.map((s) => s.name));
      }
    } catch (err) {
      // nothing of this writer is kept, and the size it started from is free again for the next attempt
      this.done = 'cancelled';
      await this.release();
      throw err;
    }
    this.done = 'committed';
    // The content is visible; what follows only tidies up what no manifest refers to any more.
    await this.store.deleteOne(this.names.pending);
    await removeClaims(this.store, this.names.pending);
    const unused: string[] = [...this.obsolete];
    for await (const entry of this.store.list(this.segmentPrefix + '/')) if (entry.name && !keep.has(entry.name)) unused.push(entry.name);
    for (const segment of replaced) if (!keep.has(segment.name)) unused.push(segment.name);
    await this.store.deleteMany([...new Set(unused)]);
  }
}
