/**
 * A folder's names kept in the order they were read and sorted only where a page needs them: the first
 * page after a name costs a pass over the names (partitioning them around that name and around the page's
 * end, as quickselect does) and a sort of the page; a later page in a part already sorted costs a binary
 * search. Keeping a 100,000-name listing so costs about what reading it does, where sorting it whole costs
 * as much again (docs/bench.md, "Tag pages of 100 from 100,000 tags, cold").
 *
 * The names stay packed (packed-names.ts) and are moved about as indexes into the packing (`order`). The
 * order is split into segments by bounds: every name before a bound sorts before every name from it on,
 * so a segment holds exactly the names whose sorted positions are its positions, in some order, and a
 * segment once sorted holds them in order. Bounds are added, never removed; all names are distinct.
 */
import type { PackedNames } from './packed-names.js';
import { codeUnitOrder } from './page-selection.js';

/** a segment this small is sorted whole rather than partitioned further */
const SMALL_SEGMENT = 256;
/** names sampled to choose a partition's pivot near the position wanted */
const PIVOT_SAMPLE = 31;

export class LazilySortedNames {
  /** for each sorted position, the index of its name in `names` (in order where a segment is sorted) */
  private readonly order: Uint32Array;
  /** segment starts, ascending, from 0; the last segment ends at `order.length` */
  private readonly starts: number[] = [0];
  /** for each segment start but the first, the greatest name before it (undefined for 0) */
  private readonly greatestBefore: (string | undefined)[] = [undefined];
  /** starts of the segments that are in order */
  private readonly sortedSegments = new Set<number>();
  /** every name in order, once asked for */
  private everyName: readonly string[] | undefined;

  /** `names`: distinct, in any order */
  constructor(private readonly names: PackedNames) {
    this.order = new Uint32Array(names.size);
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
  }

  get size(): number {
    return this.order.length;
  }

  /** The `limit` names sorting after `after` (from the first when undefined), in order, and whether more follow. */
  pageAfter(after: string | undefined, limit: number): { names: string[]; more: boolean } {
    const start = after === undefined ? 0 : this.positionAfter(after);
    const end = Math.min(this.order.length, start + Math.max(0, limit));
    this.sortRange(start, end);
    const page: string[] = [];
    for (let position = start; position < end; position++) page.push(this.names.name(this.order[position]!));
    return { names: page, more: end < this.order.length };
  }

  /** All names, in order (the same array each time). */
  all(): readonly string[] {
    if (this.everyName === undefined) {
      this.sortRange(0, this.order.length);
      this.everyName = Array.from(this.order, (index) => this.names.name(index));
    }
    return this.everyName;
  }

  /** how many names sort at or before `after` (the sorted position of the first name after it) */
  private positionAfter(after: string): number {
    // the last segment whose names all sort after the greatest name before it, which is at or before `after`
    const low = lastBoundAtOrBefore(this.greatestBefore, after);
    const from = this.starts[low]!;
    const to = this.segmentEnd(low);
    if (this.sortedSegments.has(from)) {
      let first = from;
      let last = to;
      while (first < last) {
        const middle = (first + last) >>> 1;
        if (this.names.name(this.order[middle]!) <= after) first = middle + 1;
        else last = middle;
      }
      return first;
    }
    const { split, greatest } = this.partition(from, to, after, true);
    if (split > from && split < to) this.addBound(low + 1, split, greatest);
    return split;
  }

  /** Puts the names of sorted positions [from, to) in order. */
  private sortRange(from: number, to: number): void {
    let position = from;
    while (position < to) {
      const segment = this.segmentAt(position);
      const start = this.starts[segment]!;
      const end = this.segmentEnd(segment);
      if (this.sortedSegments.has(start)) {
        position = end;
        continue;
      }
      if (end <= to || end - start <= SMALL_SEGMENT) {
        this.sortSegment(start, end);
        position = end;
        continue;
      }
      // the segment runs past `to`: cut it near `to`, then look again from `position`
      const pivot = this.pivotNear(start, end, to);
      let cut = this.partition(start, end, pivot, false);
      // the pivot is the segment's least name: cut after it instead
      if (cut.split === start) cut = this.partition(start, end, pivot, true);
      this.addBound(segment + 1, cut.split, cut.greatest);
    }
  }

  /** Sorts [start, end) of the order, comparing the names themselves (a sort's comparisons repeat). */
  private sortSegment(start: number, end: number): void {
    const named = Array.from(this.order.subarray(start, end), (index) => ({ index, name: this.names.name(index) }));
    named.sort((a, b) => codeUnitOrder(a.name, b.name));
    for (let i = 0; i < named.length; i++) this.order[start + i] = named[i]!.index;
    this.sortedSegments.add(start);
  }

  /** a name of segment [start, end) about as far into its sorted order as `wanted` is into the segment */
  private pivotNear(start: number, end: number, wanted: number): string {
    const sample: string[] = [];
    for (let i = 0; i < PIVOT_SAMPLE; i++) sample.push(this.names.name(this.order[start + Math.floor(Math.random() * (end - start))]!));
    sample.sort(codeUnitOrder);
    // a little past the wanted position, so that the cut usually falls just after it
    const share = (wanted - start) / (end - start);
    return sample[Math.min(PIVOT_SAMPLE - 1, Math.ceil(share * PIVOT_SAMPLE) + 1)]!;
  }

  /**
   * Moves the names of [from, to) that sort before `pivot` (or at it, with `orAt`) before the others;
   * where they end, and the greatest of them (when any). Each name is cut out of the packing to be compared:
   * a short-lived string, where comparing in place character by character ran several times slower until
   * V8 had optimised it (the first read of a large folder is also the first run of this code).
   */
  private partition(from: number, to: number, pivot: string, orAt: boolean): { split: number; greatest: string } {
    const { order, names } = this;
    let split = from;
    let greatest: string | undefined;
    for (let i = from; i < to; i++) {
      const index = order[i]!;
      const name = names.name(index);
      if (orAt ? name > pivot : name >= pivot) continue;
      if (greatest === undefined || name > greatest) greatest = name;
      order[i] = order[split]!;
      order[split] = index;
      split++;
    }
    return { split, greatest: greatest ?? '' };
  }

  private addBound(index: number, start: number, greatestBefore: string): void {
    this.starts.splice(index, 0, start);
    this.greatestBefore.splice(index, 0, greatestBefore);
  }

  private segmentEnd(segment: number): number {
    return segment + 1 < this.starts.length ? this.starts[segment + 1]! : this.order.length;
  }

  /** the segment holding sorted position `position` */
  private segmentAt(position: number): number {
    return lastBoundAtOrBefore(this.starts, position);
  }
}

/**
 * The last segment whose bound is at or before `value`: `bounds` from index 1 on ascending, one per segment;
 * the first segment's bound is never compared (it holds everything before the second's).
 */
function lastBoundAtOrBefore<T extends string | number>(bounds: readonly (T | undefined)[], value: T): number {
  let low = 0;
  let high = bounds.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (bounds[middle]! <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}
