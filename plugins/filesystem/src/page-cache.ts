/**
 * Keeping the page cache that uploads fill from growing without end: the bytes uploads have synced stay
 * cached up to a budget (the newest first, so a pull right after a push reads from memory), and what falls
 * out of it is dropped (posix_fadvise POSIX_FADV_DONTNEED), so that new uploads write into the pages just
 * freed instead of into memory the page cache has not touched yet.
 *
 * Why: on a VM whose balloon reports free memory to the host (virtio_balloon free page reporting, as on the
 * machine the benchmark runs on), the first touch of a page the host took back faults on the host. Writing a
 * 256 MB blob into a page cache that grows by 256 MB then costs 350-600 ms more kernel time than into pages
 * the host still backs (55-80 ms), and which one a push gets is the host's choice: one push in five stalled
 * (docs/bench.md, "Large uploads, seventh pass"). Dropping every synced range at once cured that but made the
 * first pull after a push read the disk (twice its CPU): hence the budget. A budget also makes a pull of a
 * blob pushed before it read the disk, into new pages; read-ahead.ts keeps those from being the 2 MiB blocks
 * the host took back (without it the benchmark's 256 MB pull fell to 0.8x distribution's with 512 MiB, docs/bench.md,
 * "The December 7 run, after the seventh pass"); without a budget, on such a VM, pushes pay. Elsewhere no page is
 * faulted in from the host and a budget only lowers the cache's hits: `uploadcache: auto` sets one only on
 * such a VM (free-page-reporting.ts).
 *
 * The advice itself is given through fadvise.ts.
 */
import { dropCachedRange } from './fadvise.js';

/**
 * The page cache holds a file in folios of up to 2 MiB (ext4's large folios), each aligned to its size, and
 * drops only the folios wholly inside the range it is given: a range to drop is widened to 2 MiB boundaries
 * (what lies beyond its end in the widened part is newer; dirty pages are never dropped).
 */
const LARGEST_FOLIO = 2 * 1024 * 1024;

/**
 * Bytes dropped at least at a time (or a quarter of a smaller budget): once over the budget, the oldest bytes
 * are dropped down to this much below it, so a push gives the advice once per 16 MiB instead of once per
 * synced range (1 MiB). Each advice is a path open, the fadvise and a close on the request loop, and an
 * fadvise whose range holds a page it cannot drop yet drains every CPU's page lists (lru_add_drain_all).
 */
const DROP_BATCH = 16 * 1024 * 1024;

/** A file whose synced ranges are kept, by its current path (an upload's partial file is renamed on commit). */
interface KeptFile {
  path: string;
  /** its ranges in the queue */
  ranges: number;
}

interface KeptRange {
  readonly file: KeptFile;
  from: number;
  to: number;
}

/** Synced upload bytes kept in the page cache, newest last, up to `limit` bytes; the oldest beyond it dropped. */
export class KeptPages {
  private readonly files = new Map<string, KeptFile>();
  private readonly ranges: KeptRange[] = [];
  /** index of the oldest range still kept (the queue is compacted now and then) */
  private head = 0;
  private kept = 0;

  constructor(
    /** bytes kept at most */
    private readonly limit: number,
    private readonly drop: (file: string, offset: number, length: number) => unknown = dropCachedRange,
    /** once over the limit, bytes dropped below it too, so that drops come in batches */
    private readonly slack = Math.min(DROP_BATCH, Math.floor(limit / 4)),
  ) {}

  /**
   * Bytes [from, to) of `path` were synced: they are kept, and once the limit is passed the oldest kept bytes
   * are dropped down to `slack` below it. Bytes that continue the newest range of the same file extend it, so
   * that a batch drops a run of an upload's syncs with one advice.
   */
  synced(path: string, from: number, to: number): void {
    if (to <= from) return;
    this.kept += to - from;
    let file = this.files.get(path);
    const newest = this.ranges.length > this.head ? this.ranges[this.ranges.length - 1] : undefined;
    if (file && newest?.file === file && newest.to === from) newest.to = to;
    else {
      if (!file) this.files.set(path, (file = { path, ranges: 0 }));
      file.ranges++;
      this.ranges.push({ file, from, to });
    }
    if (this.kept <= this.limit) return;
    const target = Math.max(0, this.limit - this.slack);
    while (this.kept > target) this.dropOldest(this.kept - target);
  }

  /** The file at `from` is now at `to` (a commit's rename): its kept ranges are dropped there later. */
  renamed(from: string, to: string): void {
    const file = this.files.get(from);
    if (!file) return;
    this.files.delete(from);
    file.path = to;
    const there = this.files.get(to);
    // a file renamed over another: the other's ranges name content that is gone, and dropping them is harmless
    if (!there) this.files.set(to, file);
  }

  private dropOldest(excess: number): void {
    const oldest = this.ranges[this.head];
    const start = oldest.from - (oldest.from % LARGEST_FOLIO);
    const whole = oldest.to - oldest.from <= excess;
    const end = whole ? oldest.to : oldest.from + excess;
    const widenedEnd = Math.ceil(end / LARGEST_FOLIO) * LARGEST_FOLIO;
    this.drop(oldest.file.path, start, widenedEnd - start);
    this.kept -= end - oldest.from;
    if (!whole) {
      oldest.from = end;
      return;
    }
    this.ranges[this.head++] = undefined as unknown as KeptRange;
    if (--oldest.file.ranges === 0 && this.files.get(oldest.file.path) === oldest.file) this.files.delete(oldest.file.path);
    if (this.head > 1024 && this.head * 2 > this.ranges.length) {
      this.ranges.splice(0, this.head);
      this.head = 0;
    }
  }
}

