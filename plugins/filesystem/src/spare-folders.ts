/**
 * Folders that `delete` took away whole while they held one small file (an upload session that received no
 * data: `_uploads/<id>` with its `startedat`), kept under their hidden aside name for the next `putVolatile`
 * of the same file name in a new folder beside them (the next session's `startedat`).
 *
 * Why: on ext4 without a journal (this bench machine's disk, and a common choice for scratch volumes), the
 * inode allocator steps over every inode freed in the last 60-300 seconds, one buffer-cache lookup each, so
 * that a crash cannot hand out an inode whose old table block is still unwritten (`recently_deleted` in
 * fs/ext4/ialloc.c). A small push freed two inodes (the session's folder and file) and allocated six, so each
 * allocation walked past thousands of freed ones: 14 % of the server's CPU in a `perf` profile of small
 * pushes (docs/bench.md, "Small-blob pushes, sixth pass"). A reused folder and file free and allocate nothing,
 * and the push also saves the mkdir, create, unlink and rmdir (the last a thread-pool round trip).
 *
 * A spare is a temporary like any other (`<name>~<12 hex>.tmp`, temporaries.ts): hidden from listings, and
 * removed by upload purging (`purgeTemporaries`) once older than its age when a process dies holding it.
 */
import { rm } from 'node:fs/promises';

/** A folder renamed aside that holds exactly one regular file. */
export interface SpareFolder {
  /** the folder's aside path */
  readonly folder: string;
  /** the size of its one file when it was kept (bytes) */
  readonly fileSize: number;
}

/** Spares kept at most per driver: about one per upload in flight; more would only wait on disk. */
const MAX_SPARES = 64;

/** places remembered at most as asked for; the set starts again when full */
const MAX_WANTED_PLACES = 1024;

/** Only a folder changed this recently is kept: an older one may meet upload purging's age while it waits. */
export const SPARE_FRESH_MS = 10 * 60_000;

export class SpareFolders {
  /** keyed by where a folder can be reused: its parent folder and the name of its file */
  private readonly byPlace = new Map<string, SpareFolder[]>();
  /**
   * places a `take` asked for: only their folders are kept, so folders nobody will reuse (a deleted link's, a
   * collected blob's) never fill the pool
   */
  private readonly wantedPlaces = new Set<string>();
  private count = 0;

  constructor(private readonly limit: number = MAX_SPARES) {}

  /** Whether a folder in `parent` holding a file named `fileName` would be kept (there is room, and it is asked for). */
  wants(parent: string, fileName: string): boolean {
    return this.count < this.limit && this.wantedPlaces.has(placeOf(parent, fileName));
  }

  keep(parent: string, fileName: string, spare: SpareFolder): void {
    const place = placeOf(parent, fileName);
    const spares = this.byPlace.get(place);
    if (spares) spares.push(spare);
    else this.byPlace.set(place, [spare]);
    this.count += 1;
  }

  /** From now on, folders in `parent` holding one file named `fileName` are kept when there is room. */
  ask(parent: string, fileName: string): void {
    const place = placeOf(parent, fileName);
    if (this.wantedPlaces.has(place)) return;
    if (this.wantedPlaces.size >= MAX_WANTED_PLACES) this.wantedPlaces.clear();
    this.wantedPlaces.add(place);
  }

  /** A spare for a new folder in `parent` holding a file named `fileName`, taken out of the pool; the place is asked for from now on. */
  take(parent: string, fileName: string): SpareFolder | undefined {
    this.ask(parent, fileName);
    const place = placeOf(parent, fileName);
    const spares = this.byPlace.get(place);
    const spare = spares?.pop();
    if (!spare) return undefined;
    if (spares!.length === 0) this.byPlace.delete(place);
    this.count -= 1;
    return spare;
  }

  /** Removes every spare from the disk (the driver is closing). */
  async removeAll(): Promise<void> {
    const folders = [...this.byPlace.values()].flat().map((spare) => spare.folder);
    this.byPlace.clear();
    this.count = 0;
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  }
}

const placeOf = (parent: string, fileName: string): string => `${parent}\u0000${fileName}`;
