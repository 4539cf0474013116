/**
 * `putContents` on a filesystem: every file is written and synced beside its place first, all side by side,
 * and only then renamed into place, one after the other in the order asked, each rename followed by a sync
 * of its folder before the next. A manifest push (its revision link, then its tag's `current` and index
 * links) so waits for one round of syncs and a folder sync per place, where one put after the other waited
 * for two rounds per link. Files that share a folder that does not exist yet are built in one staged folder
 * (`<folder>~<12 hex>.tmp`) and appear together with it: a new tag's folder appears holding both links.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { firstMissingFolder, foldersFrom } from './folders.js';
import { fsyncDirectory, syncDirectory, writeNewFileDurably } from './fsync.js';
import { temporaryPathOf } from './temporaries.js';
import { touchIfUnchanged } from './unchanged-content.js';

export interface FileContent {
  readonly file: string;
  readonly content: Uint8Array;
}

/** Some of the files, written and synced beside their place, ready to be shown. */
interface StagedFiles {
  /** their positions in the call's list */
  readonly positions: readonly number[];
  /** renames them into place and syncs the folder; false, showing nothing, when a folder on the way changed meanwhile */
  show(): Promise<boolean>;
  discard(): Promise<void>;
}

/** Errors of a rename or a staging that another writer making or removing a folder on the way explains. */
const RACED = new Set(['ENOENT', 'ENOTEMPTY', 'EEXIST']);
const raced = (err: unknown): boolean => RACED.has((err as NodeJS.ErrnoException).code ?? '');

/**
 * Stores `files` in order (see the driver contract's `putContents`). `putOne(position)` stores one file as a
 * single put does: the way on for files whose folders another writer changed between staging and showing.
 */
export async function putInOrder(files: readonly FileContent[], root: string, putOne: (position: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const inNewFolder = new Map<string, number[]>();
  const inPlace: number[] = [];
  const known = new Map<string, string | undefined>();
  files.forEach(({ file }, position) => {
    const missing = firstMissingFolder(dirname(file), root, known);
    if (missing === undefined) inPlace.push(position);
    else inNewFolder.set(missing, [...(inNewFolder.get(missing) ?? []), position]);
  });
  const settled = await Promise.allSettled([
    ...inPlace.map((position) => stageInFolder(files[position]!, position, signal)),
    ...[...inNewFolder].map(([missing, positions]) => stageNewFolder(missing, positions, files, signal)),
  ]);
  const staged = settled.flatMap((result) => (result.status === 'fulfilled' && result.value ? [result.value] : []));
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(staged.map((item) => item.discard()));
    throw failed.reason;
  }

  // each staged item is shown once every file before its last one is in place (those in it appear with it)
  const lastOf = (item: StagedFiles): number => Math.max(...item.positions);
  const waiting = staged.sort((a, b) => lastOf(a) - lastOf(b));
  const shown = new Set<number>();
  try {
    while (waiting.length > 0) {
      const item = waiting[0]!;
      const ready = Array.from({ length: lastOf(item) }, (_, position) => position).every((position) => shown.has(position) || item.positions.includes(position));
      signal?.throwIfAborted();
      if (!ready || !(await item.show())) break;
      waiting.shift();
      for (const position of item.positions) shown.add(position);
    }
  } finally {
    await Promise.all(waiting.map((item) => item.discard()));
  }
  // a folder on the way changed between staging and showing: the rest one by one, in order
  for (let position = 0; position < files.length; position++) if (!shown.has(position)) await putOne(position);
}

/** A file whose folder exists: kept when it holds the bytes already (its times advanced), else a synced temporary beside it. */
async function stageInFolder({ file, content }: FileContent, position: number, signal?: AbortSignal): Promise<StagedFiles | undefined> {
  if (await touchIfUnchanged(file, content)) return { positions: [position], show: async () => true, discard: async () => undefined };
  const temp = temporaryPathOf(file);
  try {
    await writeSyncedFiles([{ file: temp, content }], [], signal);
  } catch (err) {
    await rm(temp, { force: true });
    if (raced(err)) return undefined;
    throw err;
  }
  return {
    positions: [position],
    show: async () => {
      try {
        renameSync(temp, file);
      } catch (err) {
        await rm(temp, { force: true });
        if (raced(err)) return false;
        throw err;
      }
      await syncDirectory(file);
      return true;
    },
    discard: () => rm(temp, { force: true }),
  };
}

/** Files below `missing`, a folder that does not exist: built with their folders in a staged sibling of it, all synced. */
async function stageNewFolder(missing: string, positions: readonly number[], files: readonly FileContent[], signal?: AbortSignal): Promise<StagedFiles | undefined> {
  const staging = temporaryPathOf(missing);
  const stagedFiles = positions.map((position) => ({ file: join(staging, relative(missing, files[position]!.file)), content: files[position]!.content }));
  // top down (a parent's path is shorter than its child's), each once
  const folders = [...new Set(stagedFiles.flatMap(({ file }) => foldersFrom(dirname(file), staging)))].sort((a, b) => a.length - b.length);
  try {
    for (const folder of folders) mkdirSync(folder);
    // the staged folders hold the files and each other: synced with the files, before the rename shows them
    await writeSyncedFiles(stagedFiles, folders, signal);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // the folder above `missing` went away meanwhile (a delete): the single put looks again
    if (raced(err)) return undefined;
    throw err;
  }
  return {
    positions,
    show: async () => {
      try {
        renameSync(staging, missing);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        // another writer made `missing` meanwhile: the single put writes into it
        if (raced(err)) return false;
        throw err;
      }
      await syncDirectory(missing);
      return true;
    },
    discard: () => rm(staging, { recursive: true, force: true }),
  };
}

/**
 * Creates each file (exclusively) with its content and syncs its data, every folder of `folders` synced side by
 * side with them (fsync.ts's writeNewFileDurably for each). Every write has ended when this settles, so the
 * caller may remove what it staged. ENOENT when a folder on the way vanished meanwhile.
 */
async function writeSyncedFiles(created: readonly FileContent[], folders: readonly string[], signal?: AbortSignal): Promise<void> {
  // staged folders, under names of their own: no other sync can join theirs (fsync.ts)
  const syncFolders = (): Promise<unknown> => Promise.all(folders.map(fsyncDirectory));
  const outcomes = await Promise.allSettled(
    created.map(({ file, content }, index) => writeNewFileDurably(file, content, signal, index === 0 ? syncFolders : undefined)),
  );
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const vanished = created.find((_, index) => (outcomes[index] as PromiseFulfilledResult<boolean>).value === false);
  if (vanished) throw Object.assign(new Error(`the folder of ${vanished.file} vanished`), { code: 'ENOENT' });
}
