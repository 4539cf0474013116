/**
 * Asking for a large object's pages ahead of its reader (posix_fadvise POSIX_FADV_WILLNEED), where the
 * page-cache budget is kept (page-cache.ts).
 *
 * Why: on a VM whose balloon reports free memory to the host, the budget makes a pull of a blob pushed
 * long before read the disk into new page-cache pages, and the kernel's own readahead takes them as 2 MiB
 * folios: the free blocks the host was handed back, each first touch a fault on the host (a cold 256 MiB
 * read 470-630 ms, 300-450 ms of it system time). Pages asked for ahead come in 4 KiB folios, taken from
 * the small free pieces the budget's drops and the rest of the machine leave, which the host still backs
 * (the same read 170-230 ms, 70-130 ms of system time), and the disk works ahead of the reader. What is
 * cached already is skipped. A warm read of 4 KiB folios costs more system time than one of 2 MiB folios
 * (90 against 45 ms per 256 MiB), so this is only done where the budget is (docs/bench.md, "Large pulls,
 * eighth pass").
 */
import { readAheadRange } from './fadvise.js';

const MiB = 1024 * 1024;
/** how far past the last byte read the pages are asked for */
const AHEAD = 32 * MiB;
/** asked for this much at a time, when less than AHEAD - STEP is left asked for ahead of the reader */
const STEP = 8 * MiB;
/**
 * asked for at most this much a call: the kernel reads at most the disk's readahead size (`read_ahead_kb`,
 * 8 MiB on the bench machine's disk) of a range it is asked for
 */
const PIECE = 4 * MiB;
/** objects smaller than this are read as the kernel likes: its own readahead reaches their end at once */
export const READ_AHEAD_FROM_SIZE = 4 * MiB;

/** The pages of one reader's file [., end) asked for ahead of where it reads. */
export class ReadAhead {
  /** bytes before this were asked for */
  private askedUpTo: number;

  constructor(
    private readonly file: string,
    start: number,
    private readonly end: number,
    private readonly ask: (file: string, offset: number, length: number) => unknown = readAheadRange,
  ) {
    this.askedUpTo = start;
    this.reading(start, 0);
  }

  /** The reader is about to read [position, position + length). */
  reading(position: number, length: number): void {
    const wanted = Math.min(this.end, position + length + AHEAD);
    if (wanted - this.askedUpTo < STEP && wanted < this.end) return;
    if (wanted <= this.askedUpTo) return;
    // a reader that skipped ahead (a range request) is asked for from where it reads
    const from = Math.max(this.askedUpTo, position);
    for (let at = from; at < wanted; at += PIECE) this.ask(this.file, at, Math.min(PIECE, wanted - at));
    this.askedUpTo = wanted;
  }
}
