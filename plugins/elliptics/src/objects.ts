/**
 * Whole objects over the client: streaming an object out of one replica in ranged READs, and writing one to
 * every group so that readers never see it half-written (one WRITE when it fits a chunk, otherwise
 * PREPARE / PLAIN_WRITE / COMMIT, which a 2.26 server keeps invisible until COMMIT).
 */
import { IoFlags, Status } from './protocol/constants.js';
import { type EllipticsClient, type GroupResult, isCallerAbort, isStatus, QuorumError, type ReplicaInfo } from './protocol/client.js';

/** A record's bytes, read whole, with the time of the version they are. */
export interface WholeRecord {
  bytes: Buffer;
  mtime: ReplicaInfo['mtime'];
}

export interface Clock {
  now(): { tsec: number; tnsec: number };
}

export const systemClock: Clock = {
  now() {
    const ns = process.hrtime.bigint() % 1_000_000n;
    const ms = Date.now();
    return { tsec: Math.floor(ms / 1000), tnsec: (ms % 1000) * 1_000_000 + Number(ns) };
  },
};

export class ObjectStore {
  constructor(
    readonly client: EllipticsClient,
    readonly chunkSize: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Yields the bytes of a replica from `offset` to its end, one ranged READ at a time. */
  async *chunks(id: Buffer, replica: ReplicaInfo, offset = 0): AsyncGenerator<Buffer> {
    let at = offset;
    const groups = [replica.groupId, ...replica.alternates];
    while (at < replica.size) {
      const want = Math.min(this.chunkSize, replica.size - at);
      const data = await this.readFrom(groups, id, at, want);
      if (data.length === 0) throw new Error(`elliptics READ at ${at} of ${replica.size} returned no data`);
      yield data;
      at += data.length;
    }
  }

  /** Reads a range from the first group that answers; a failing group is not asked again for this object. */
  private async readFrom(groups: number[], id: Buffer, offset: number, size: number): Promise<Buffer> {
    for (;;) {
      const groupId = groups[0];
      if (groupId === undefined) throw new Error('elliptics READ: no replica left to read from');
      try {
        return (await this.client.read(groupId, id, offset, size)).data;
      } catch (err) {
        if (groups.length === 1 || isCallerAbort(err)) throw err;
        groups.shift();
      }
    }
  }

  async readAll(id: Buffer, replica: ReplicaInfo): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.chunks(id, replica)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /**
   * A journal or descriptor as one version: the whole record in a single READ of size 0 (to its end) from
   * the replica's group, else from a group holding the same version. Reading it at offsets of the size a
   * LOOKUP saw fails when the record is rewritten in between: a journal's compaction (or a descriptor's
   * rewrite) shortens it, and the READ past its new end answers -7 E2BIG (or returns a mix of versions).
   * Answers the bytes with the time of the version read; undefined when the record was removed since the LOOKUP.
   */
  async readWhole(id: Buffer, replica: Pick<ReplicaInfo, 'groupId' | 'alternates'>): Promise<WholeRecord | undefined> {
    const groups = [replica.groupId, ...replica.alternates];
    let missing = 0;
    let failure: unknown;
    for (const groupId of groups) {
      try {
        const { data, io } = await this.client.read(groupId, id, 0, 0);
        return { bytes: data, mtime: { tsec: io.tsec, tnsec: io.tnsec } };
      } catch (err) {
        if (isCallerAbort(err)) throw err;
        if (isStatus(err, Status.ENOENT)) missing += 1;
        else failure ??= err;
      }
    }
    if (missing === groups.length) return undefined;
    throw failure;
  }

  /** `readWhole` of each group's own copy (a group without the record answers undefined). */
  readWholeInEachGroup(id: Buffer): Promise<GroupResult<WholeRecord | undefined>[]> {
    return this.client.eachGroup((groupId) => this.readWhole(id, { groupId, alternates: [] }));
  }

  /** Stores exactly `size` bytes from `source` under `id` in every group (quorum). */
  async write(id: Buffer, size: number, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const stamp = this.clock.now();
    if (size === 0) {
      // A plain empty WRITE stores nothing on 2.26; PREPARE|COMMIT|PLAIN_WRITE creates a real 0-byte object.
      await this.client.writeQuorum(id, { ioFlags: IoFlags.PREPARE | IoFlags.COMMIT | IoFlags.PLAIN_WRITE, offset: 0, num: 0, ...stamp }, Buffer.alloc(0));
      return;
    }
    let live = [...this.client.groups];
    let offset = 0;
    for await (const piece of rechunk(source, this.chunkSize)) {
      const end = offset + piece.length;
      if (end > size) throw new Error(`elliptics write: source holds more than the ${size} bytes announced`);
      const single = offset === 0 && end === size;
      const ioFlags = single
        ? 0
        : offset === 0
          ? IoFlags.PREPARE | IoFlags.PLAIN_WRITE
          : end === size
            ? IoFlags.COMMIT | IoFlags.PLAIN_WRITE
            : IoFlags.PLAIN_WRITE;
      const num = single ? 0 : offset === 0 || end === size ? size : end;
      const at = offset;
      const results = await Promise.all(
        live.map(async (groupId) => {
          try {
            await this.client.write(groupId, id, { ioFlags, offset: at, num, ...stamp }, piece);
            return { groupId, error: undefined };
          } catch (error) {
            return { groupId, error: error as Error };
          }
        }),
      );
      live = results.filter((r) => !r.error).map((r) => r.groupId);
      if (live.length < this.client.quorum) {
        throw new QuorumError('WRITE', live.length, this.client.quorum, results.flatMap((r) => (r.error ? [r.error] : [])));
      }
      offset = end;
    }
    if (offset !== size) throw new Error(`elliptics write: source ended after ${offset} of ${size} bytes`);
  }
}

/** Re-cuts a byte stream into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (buf.length > 0) {
      const take = Math.min(size - held, buf.length);
      parts.push(buf.subarray(0, take));
      held += take;
      buf = buf.subarray(take);
      if (held === size) {
        yield Buffer.concat(parts);
        parts = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield Buffer.concat(parts);
}
