/**
 * The filesystem writer. Uncommitted bytes live in `<path>~partial`, next to where the object will be:
 * an appending writer opened later (even by another process after a restart) finds them there, and
 * commit is an fsync and a rename, so readers see the old object or the new one, never half of one.
 * `~` is outside the storage path grammar, so a partial file can never be mistaken for an object.
 */
import { type FileHandle, copyFile, open, rename, rm, stat } from 'node:fs/promises';
import type { FileWriter } from 'stowage';
import { syncDirectory } from './fsync.js';

export const partialPathOf = (file: string): string => `${file}~partial`;

export async function openWriter(file: string, append: boolean): Promise<FileWriter> {
  const partial = partialPathOf(file);
  if (!append) return new FilesystemWriter(file, partial, await open(partial, 'w'), 0, false);
  // Appending: nothing is created or copied until the first byte is written, so a writer that is only
  // opened and closed leaves the disk as it found it.
  const partialSize = await sizeOf(partial);
  if (partialSize !== undefined) return new FilesystemWriter(file, partial, undefined, partialSize, false);
  const committedSize = await sizeOf(file);
  return new FilesystemWriter(file, partial, undefined, committedSize ?? 0, committedSize !== undefined);
}

/** The bytes an appending writer at `file` would start from; undefined when there is neither a partial nor an object. */
export async function uploadSizeOf(file: string): Promise<number | undefined> {
  return (await sizeOf(partialPathOf(file))) ?? (await sizeOf(file));
}

class FilesystemWriter implements FileWriter {
  private handle: FileHandle | undefined;
  private closed = false;
  private written: number;
  private finished: 'committed' | 'cancelled' | undefined;

  constructor(
    private readonly file: string,
    private readonly partial: string,
    handle: FileHandle | undefined,
    size: number,
    /** the committed object is the start of this upload: copied to the partial file on first use */
    private copyCommitted: boolean,
  ) {
    this.handle = handle;
    this.written = size;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    const handle = await this.openHandle('write');
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
      offset += bytesWritten;
    }
    this.written += chunk.length;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.closed = true;
    await handle?.close();
  }

  async cancel(): Promise<void> {
    this.assertUsable('cancel');
    this.finished = 'cancelled';
    await this.close();
    await rm(this.partial, { force: true });
  }

  async commit(): Promise<void> {
    const handle = await this.openHandle('commit');
    await handle.sync();
    this.finished = 'committed';
    await this.close();
    await rename(this.partial, this.file);
    await syncDirectory(this.file);
  }

  private assertUsable(operation: string): void {
    if (this.finished) throw new Error(`${operation} on a writer already ${this.finished}`);
    if (this.closed) throw new Error(`${operation} on a closed writer`);
  }

  private async openHandle(operation: string): Promise<FileHandle> {
    this.assertUsable(operation);
    if (!this.handle) {
      if (this.copyCommitted) await copyFile(this.file, this.partial);
      this.copyCommitted = false;
      this.handle = await open(this.partial, 'a');
    }
    return this.handle;
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    const info = await stat(file);
    return info.isFile() ? info.size : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}
