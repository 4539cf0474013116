/** A sync of one open file or folder on libuv's thread pool: the primitive fsync.ts and group-sync.ts build on. */
import { fdatasync, fsync } from 'node:fs';

/** a sync of one descriptor: fsync, or fdatasync when `dataOnly` */
export type DescriptorSync = (fd: number, dataOnly: boolean) => Promise<void>;

/**
 * Opening and closing a folder or a small new file is a few microseconds in the kernel and never waits for
 * the disk, but each as a promise is a thread-pool round trip (tens of microseconds of CPU and a queue slot
 * behind running fsyncs): a small push made a dozen of them. So those steps are synchronous and only the
 * syncs, which wait for the disk, go to the thread pool. The same holds for the other name operations of
 * an upload (mkdir, rename, unlinking a claim or a small file, stat): the driver makes them synchronous
 * too, and keeps the thread pool for what waits for the disk or grows with the data (syncs, data writes,
 * listing or unlinking what may be large).
 */
export const syncDescriptor: DescriptorSync = (fd, dataOnly) =>
  new Promise((resolve, reject) => (dataOnly ? fdatasync : fsync)(fd, (err) => (err ? reject(err) : resolve())));
