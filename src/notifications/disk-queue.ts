/**
 * One endpoint's events waiting to be sent, one file each in a folder of its own, named by a sequence number
 * so that the folder's order is the events' order. An event is on disk (written, fsynced, renamed into
 * place) before it counts as queued, and leaves only once its endpoint accepted it: a restart, or a crash,
 * loses nothing (an event accepted just before a crash may be sent twice). At most `limit` events are kept.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

const NAME = /^(\d{16})\.json$/;
const fileName = (sequence: number): string => `${String(sequence).padStart(16, '0')}.json`;

export interface QueuedEvent {
  readonly sequence: number;
  readonly payload: string;
}

export class DiskQueue {
  private constructor(
    readonly folder: string,
    private readonly limit: number,
    /** the sequence numbers on disk, oldest first */
    private readonly sequences: number[],
    private next: number,
  ) {}

  static async open(folder: string, limit: number): Promise<DiskQueue> {
    await mkdir(folder, { recursive: true });
    const sequences: number[] = [];
    for (const entry of await readdir(folder)) {
      const match = NAME.exec(entry);
      if (match) sequences.push(Number(match[1]));
      // a temporary file is an event whose write never finished: it was never queued
      else if (entry.endsWith('.tmp')) await rm(path.join(folder, entry), { force: true });
    }
    sequences.sort((a, b) => a - b);
    return new DiskQueue(folder, limit, sequences, (sequences.at(-1) ?? 0) + 1);
  }

  get length(): number {
    return this.sequences.length;
  }

  /** Writes an event to the end of the queue; false (nothing written) when the queue is full. */
  async append(payload: string): Promise<boolean> {
    if (this.sequences.length >= this.limit) return false;
    const sequence = this.next++;
    const final = path.join(this.folder, fileName(sequence));
    const temporary = `${final}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(payload);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, final);
    this.sequences.push(sequence);
    return true;
  }

  /** Up to `count` of the oldest events, oldest first. */
  async head(count: number): Promise<QueuedEvent[]> {
    return Promise.all(
      this.sequences.slice(0, count).map(async (sequence) => ({ sequence, payload: await readFile(path.join(this.folder, fileName(sequence)), 'utf8') })),
    );
  }

  /** Removes the oldest `count` events (those `head` returned, once delivered). */
  async drop(count: number): Promise<void> {
    for (const sequence of this.sequences.splice(0, count)) await rm(path.join(this.folder, fileName(sequence)), { force: true });
  }
}
