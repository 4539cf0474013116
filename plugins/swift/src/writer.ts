/**
 * The resumable writer. Bytes go to segment objects of at most `chunksize` bytes; the list of
 * segments lives in a small state object (`<prefix>/pending<path>`), so a writer closed by one
 * process is continued by another. Nothing is visible at the path until commit, which writes the
 * object itself (small content) or a Static Large Object manifest over the segments, so objects
 * larger than Swift's 5 GB limit work. Swift verifies every segment's MD5 and the manifest's segment
 * list, so a damaged or missing segment fails the commit instead of becoming visible.
 */
import { randomBytes } from 'node:crypto';
import type { FileWriter } from 'stowage';
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

/** Segments of one size before the size doubles: Swift allows 1000 segments an object (max_manifest_segments). */
export const SEGMENTS_PER_SIZE = 250;

/**
 * The size of the segment after `count` full ones: `chunksize` for the first 250, then doubling every
 * 250, so 1000 segments hold 3750 x chunksize (about 73 GiB at 20 MiB) while small blobs keep small segments.
 */
export const segmentSizeAfter = (count: number, chunkSize: number): number =>
  chunkSize * 2 ** Math.min(Math.floor(count / SEGMENTS_PER_SIZE), 3);

export const newSegmentPrefix = (segmentRoot: string): string => `${segmentRoot}/${randomBytes(16).toString('hex')}`;

export async function readPendingState(store: SwiftStore, pendingName: string): Promise<PendingState | undefined> {
  const body = await store.get(pendingName);
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
}

export class SwiftFileWriter implements FileWriter {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private segments: SegmentRef[];
  private next: number;
  private readonly segmentPrefix: string;
  private readonly borrowed: number;
  /** segments replaced by a rewrite of the last, short one; deleted once the new state is saved */
  private obsolete: string[] = [];
  private written: number;
  private done: 'closed' | 'committed' | 'cancelled' | undefined;
  /** whether anything was written since the writer was opened (a status check writes nothing) */
  private dirty = false;

  constructor(
    private readonly store: SwiftStore,
    private readonly names: WriterNames,
    private readonly chunkSize: number,
    state: PendingState | undefined,
    /** bytes that continue the content before anything new is written (a short last segment read back) */
    carried: { data: Buffer; replaces?: string } | undefined,
  ) {
    this.segmentPrefix = state?.segmentPrefix ?? newSegmentPrefix(names.segmentRoot);
    this.segments = [...(state?.segments ?? [])];
    this.next = state?.next ?? 1;
    this.borrowed = state?.borrowed ?? 0;
    if (carried && carried.data.length > 0) {
      this.buffered.push(carried.data);
      this.bufferedBytes = carried.data.length;
    }
    if (carried?.replaces) this.obsolete.push(carried.replaces);
    this.written = this.segments.reduce((sum, s) => sum + s.size, 0) + this.bufferedBytes;
  }

  get size(): number {
    return this.written;
  }

  private check(operation: string): void {
    if (this.done) throw new Error(`swift writer for ${this.names.object}: ${operation} after ${this.done}`);
  }

  private take(bytes: number): Buffer {
    const all = Buffer.concat(this.buffered, this.bufferedBytes);
    const head = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    return head;
  }

  private nextSegmentSize(): number {
    return segmentSizeAfter(this.segments.length, this.chunkSize);
  }

  private async flushSegment(data: Buffer): Promise<void> {
    const name = `${this.segmentPrefix}/${String(this.next).padStart(16, '0')}`;
    const etag = await this.store.put(name, data);
    this.next += 1;
    this.segments.push({ name, etag, size: data.length });
  }

  private state(): PendingState {
    return { version: 1, segmentPrefix: this.segmentPrefix, next: this.next, segments: this.segments, borrowed: this.borrowed };
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check('write');
    if (chunk.length === 0) return;
    this.dirty = true;
    this.buffered.push(Buffer.from(chunk));
    this.bufferedBytes += chunk.length;
    this.written += chunk.length;
    for (let size = this.nextSegmentSize(); this.bufferedBytes >= size; size = this.nextSegmentSize()) await this.flushSegment(this.take(size));
  }

  async close(): Promise<void> {
    if (this.done) {
      if (this.done === 'closed') throw new Error(`swift writer for ${this.names.object}: close after close`);
      return;
    }
    this.done = 'closed';
    // Nothing new: the saved state still describes the upload (a short last segment read back stays as it was).
    if (!this.dirty) return;
    if (this.bufferedBytes > 0) await this.flushSegment(this.take(this.bufferedBytes));
    await this.store.put(this.names.pending, Buffer.from(JSON.stringify(this.state())), { 'content-type': 'application/json' });
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
    const previous = await this.store.head(this.names.object);
    const replaced = previous?.slo ? ((await this.store.manifestSegments(this.names.object)) ?? []) : [];
    let keep: Set<string>;
    if (this.segments.length === 0) {
      await this.store.put(this.names.object, this.take(this.bufferedBytes));
      keep = new Set();
    } else {
      if (this.bufferedBytes > 0) await this.flushSegment(this.take(this.bufferedBytes));
      await this.store.putManifest(this.names.object, this.segments);
      keep = new Set(this.segments.map((s) => s.name));
    }
    this.done = 'committed';
    // The content is visible; what follows only tidies up what no manifest refers to any more.
    await this.store.deleteOne(this.names.pending);
    const unused: string[] = [...this.obsolete];
    for await (const entry of this.store.list(this.segmentPrefix + '/')) if (entry.name && !keep.has(entry.name)) unused.push(entry.name);
    for (const segment of replaced) if (!keep.has(segment.name)) unused.push(segment.name);
    await this.store.deleteMany([...new Set(unused)]);
  }
}
