/**
 * Deletes in progress, so that one a crash cut short is finished later.
 *
 * Why: a delete takes its path out of the listing before it removes anything (so no listing ever names what
 * is gone, see `EllipticsDriver.delete`). A process killed in between leaves objects no listing reaches any
 * more, an upload session's chunks say; upload purging could never find them by walking. So every delete
 * notes its path here first and crosses it out when done, and `purgeTemporaries` finishes the deletes whose
 * note is older than the purge age.
 *
 * One key, `pending-deletes`, holds a journal of lines added with APPEND (atomic on the server, so processes
 * never overwrite each other's lines): `+<token> <ms since epoch> <path>` when a delete starts, `-<token>`
 * when it ends. The token tells apart two deletes of the same path. Folding the journal in order gives the
 * deletes in progress. A line that reached only some groups (its process died during the APPEND) is still
 * a line: the journal is read from every group, and a delete is in progress when some replica begins it and
 * none ends it. `compact` rewrites each group's replica with those lines only, with compare-and-swap against
 * the bytes it read there (elliptics dnet_cas_local: refused when an APPEND landed meanwhile, which then stays).
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from './objects.js';
import { casParent, type EllipticsClient } from './protocol/client.js';
import { IoFlags } from './protocol/constants.js';

export interface PendingDelete {
  readonly token: string;
  readonly path: string;
  readonly startedAt: Date;
}

/** A process compacts the journal after this many of its own deletes, so it stays short without upload purging. */
const COMPACT_EVERY = 256;

export class PendingDeletes {
  private endedSinceCompaction = 0;

  constructor(
    private readonly client: EllipticsClient,
    private readonly objects: ObjectStore,
    private readonly id: Buffer,
    private readonly clock: { now(): { tsec: number; tnsec: number } },
  ) {}

  /** Notes that a delete of `path` starts; answers the token that `end` crosses it out with. */
  async begin(path: string): Promise<string> {
    const token = randomBytes(8).toString('hex');
    await this.append(`+${token} ${Date.now()} ${path}\n`);
    return token;
  }

  async end(token: string): Promise<void> {
    await this.append(`-${token}\n`);
    if (++this.endedSinceCompaction >= COMPACT_EVERY) {
      this.endedSinceCompaction = 0;
      await this.compact();
    }
  }

  /** The deletes begun and not ended in any replica, oldest first. */
  async list(): Promise<PendingDelete[]> {
    return foldPendingDeletes((await this.replicas()).map((replica) => replica.bytes.toString('utf8')));
  }

  /** Rewrites each group's replica with the lines of deletes in progress only. Best effort: a refused rewrite leaves it correct. */
  async compact(): Promise<void> {
    const replicas = await this.replicas();
    const body = Buffer.from(
      foldPendingDeletes(replicas.map((replica) => replica.bytes.toString('utf8')))
        .map((entry) => `+${entry.token} ${entry.startedAt.getTime()} ${entry.path}\n`)
        // a line that folds to nothing: a plain empty WRITE would leave the record as it was
        .join('') || '\n',
      'utf8',
    );
    const stamp = this.clock.now();
    await Promise.all(
      replicas
        .filter((replica) => replica.bytes.length > body.length)
        .map(async ({ groupId, bytes }) => {
          const parent = casParent(bytes);
          await this.client.write(groupId, this.id, { ioFlags: IoFlags.CAS, offset: 0, num: 0, parent, ...stamp }, body).catch(() => undefined);
        }),
    );
  }

  /**
   * The journal as each group that answers holds it (a group without it holds nothing), each read whole in
   * one READ: a compaction between a LOOKUP and ranged READs would shorten it under the reader (-7 E2BIG).
   */
  private async replicas(): Promise<{ groupId: number; bytes: Buffer }[]> {
    const read = await this.objects.readWholeInEachGroup(this.id);
    const replicas: { groupId: number; bytes: Buffer }[] = [];
    for (const result of read) {
      if (!result.ok) throw result.error;
      if (result.value) replicas.push({ groupId: result.groupId, bytes: result.value.bytes });
    }
    return replicas;
  }

  private async append(line: string): Promise<void> {
    await this.client.writeQuorum(this.id, { ioFlags: IoFlags.APPEND, offset: 0, num: 0, ...this.clock.now() }, Buffer.from(line, 'utf8'));
  }
}

/**
 * Folds the replicas of the journal: `+token ms path` begins a delete, `-token` ends it, in whichever
 * replica each line is; malformed lines are skipped. Oldest first.
 */
export function foldPendingDeletes(replicas: readonly string[]): PendingDelete[] {
  const begun = new Map<string, PendingDelete>();
  const ended = new Set<string>();
  for (const journal of replicas) {
    for (const line of journal.split('\n')) {
      if (line.startsWith('-')) {
        ended.add(line.slice(1));
        continue;
      }
      const match = /^\+([0-9a-f]+) (\d+) (\/.*)$/.exec(line);
      if (match) begun.set(match[1]!, { token: match[1]!, startedAt: new Date(Number(match[2])), path: match[3]! });
    }
  }
  return [...begun.values()].filter((entry) => !ended.has(entry.token)).sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
}
