/**
 * Growing part sizes, for services that allow 1000 parts an upload (Swift's SLO segments, its s3api):
 * parts of one size for the first 250, then doubling every 250 (up to 8x), so 1000 parts hold
 * 3750 x the first size (about 73 GiB at 20 MiB) while small uploads keep small parts.
 */

/** Parts of one size before the size doubles. */
export const PARTS_PER_SIZE = 250;

/** The size of the part after `count` full ones. */
export const partSizeAfter = (count: number, chunkSize: number): number => chunkSize * 2 ** Math.min(Math.floor(count / PARTS_PER_SIZE), 3);
