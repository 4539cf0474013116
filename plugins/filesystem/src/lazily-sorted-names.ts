/**
 * A folder's names kept in the order they were read and sorted only where a page needs them: the first
 * page after a name costs a pass over the names (partitioning them around that name and around the page's
 * end, as quickselect does) and a sort of the page; a later page in a part already sorted costs a binary
 * search. Keeping a 100,000-name listing so costs about what reading it does, where sorting it whole costs
 * as much again (docs/bench.md, "Tag pages of 100 from 100,000 tags, cold").
 *
 * The names are split into segments by bounds: every name before a bound sorts before every name from it
 * on, so a segment holds exactly the names whose sorted positions are its positions, in some order, and
 * a segment once sorted holds them in order. Bounds are added, never removed; all names are distinct.
 */
import { codeUnitOrder } from './page-selection.js';

/** a segment this small is sorted whole rather than partitioned further */
const SMALL_SEGMENT = 256;
/** names sampled to choose a partition's pivot near the position wanted */
const PIVOT_SAMPLE = 31;

export class LazilySortedNames {
  /** segment starts, ascending, from 0; the last segment ends at `names.length` */
  private readonly starts: number[] = [0];
  /** for each segment start but the first, the greatest name before it (undefined for 0) */
  private readonly greatestBefore: (string | undefined)[] = [undefined];
  /** starts of the segments that are in order */
  private readonly sortedSegments = new Set<number>();

  /** `names`: distinct, in any order; taken over and reordered in place */
  constructor(private readonly names: string[]) {}

  get size(): number {
    return this.names.length;
  }

  /** The `limit` names sorting after `after` (from the first when undefined), in order, and whether more follow. */
  pageAfter(after: string | undefined, limit: number): { names: string[]; more: boolean } {
    const start = after === undefined ? 0 : this.positionAfter(after);
    const end = Math.min(this.names.length, start + Math.max(0, limit));
    this.sortRange(start, end);
    return { names: this.names.slice(start, end), more: end < this.names.length };
  }

  /** All names, in order. */
  all(): readonly string[] {
    this.sortRange(0, this.names.length);
    return this.names;
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
        if (this.names[middle]! <= after) first = middle + 1;
        else last = middle;
      }
      return first;
    }
    const { split, greatest } = this.partition(from, to, (name) => name <= after);
    if (split > from && split < to) this.addBound(low + 1, split, greatest!);
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
        const sorted = this.names.slice(start, end).sort(codeUnitOrder);
        for (let i = 0; i < sorted.length; i++) this.names[start + i] = sorted[i]!;
        this.sortedSegments.add(start);
        position = end;
        continue;
      }
      // the segment runs past `to`: cut it near `to`, then look again from `position`
      const pivot = this.pivotNear(start, end, to);
      let cut = this.partition(start, end, (name) => name < pivot);
      // the pivot is the segment's least name: cut after it instead
      if (cut.split === start) cut = this.partition(start, end, (name) => name <= pivot);
      this.addBound(segment + 1, cut.split, cut.greatest!);
    }
  }

  /** a name of segment [start, end) about as far into its sorted order as `wanted` is into the segment */
  private pivotNear(start: number, end: number, wanted: number): string {
    const sample: string[] = [];
    for (let i = 0; i < PIVOT_SAMPLE; i++) sample.push(this.names[start + Math.floor(Math.random() * (end - start))]!);
    sample.sort(codeUnitOrder);
    // a little past the wanted position, so that the cut usually falls just after it
    const share = (wanted - start) / (end - start);
    return sample[Math.min(PIVOT_SAMPLE - 1, Math.ceil(share * PIVOT_SAMPLE) + 1)]!;
  }

  /** Moves the names of [from, to) that `first` accepts before the others; where they end, and the greatest of them. */
  private partition(from: number, to: number, first: (name: string) => boolean): { split: number; greatest: string | undefined } {
    const names = this.names;
    let split = from;
    let greatest: string | undefined;
    for (let i = from; i < to; i++) {
      const name = names[i]!;
      if (!first(name)) continue;
      if (greatest === undefined || name > greatest) greatest = name;
      names[i] = names[split]!;
      names[split] = name;
      split++;
    }
    return { split, greatest };
  }

  private addBound(index: number, start: number, greatestBefore: string): void {
    this.starts.splice(index, 0, start);
    this.greatestBefore.splice(index, 0, greatestBefore);
  }

  private segmentEnd(segment: number): number {
    return segment + 1 < this.starts.length ? this.starts[segment + 1]! : this.names.length;
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
