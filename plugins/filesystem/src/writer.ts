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
  if (append && !(await exists(partial)) && (await exists(file))) await copyFile(file, partial);
  const handle = await open(partial, append ? 'a' : 'w');
  const size = append ? (await handle.stat()).size : 0;
  return new FilesystemWriter(file, partial, handle, size);
}

class FilesystemWriter implements FileWriter {
  private handle: FileHandle | undefined;
  private written: number;
  private finished: 'committed' | 'cancelled' | undefined;

  constructor(
    private readonly file: string,
    private readonly partial: string,
    handle: FileHandle,
    size: number,
  ) {
    this.handle = handle;
    this.written = size;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const handle = this.openHandle('write');
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
    await handle?.close();
  }

  async cancel(): Promise<void> {
    this.openHandle('cancel');
    this.finished = 'cancelled';
    await this.close();
    await rm(this.partial, { force: true });
  }

  async commit(): Promise<void> {
    const handle = this.openHandle('commit');
    await handle.sync();
    this.finished = 'committed';
    await this.close();
    await rename(this.partial, this.file);
    await syncDirectory(this.file);
  }

  private openHandle(operation: string): FileHandle {
    if (this.finished) throw new Error(`${operation} on a writer already ${this.finished}`);
    if (!this.handle) throw new Error(`${operation} on a closed writer`);
    return this.handle;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
