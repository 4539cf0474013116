/**
 * Whether a folder is on a filesystem whose `stat` answers what is stored now. A network filesystem (NFS,
 * SMB, Ceph, a FUSE mount such as s3fs) may answer a stat from a client-side attribute cache for seconds
 * after another machine changed the file, while an open revalidates it (NFS close-to-open consistency): a
 * content stamp taken from a stat could then vouch for content that is no longer there. So stamps are given
 * on the local filesystem types listed here only; on any other, links are read on every request, as before.
 */
import { statfsSync } from 'node:fs';

/** statfs(2) f_type of local filesystems (linux/magic.h) */
const LOCAL_FILESYSTEM_TYPES: ReadonlySet<number> = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x858458f6, // ramfs
  0x794c7630, // overlayfs (container images' layers)
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
]);

export const isLocalFilesystemType = (type: number): boolean => LOCAL_FILESYSTEM_TYPES.has(type);

/** undefined when the folder cannot be examined (not made yet): ask again later */
export function onLocalFilesystem(folder: string): boolean | undefined {
  try {
    return isLocalFilesystemType(statfsSync(folder).type);
  } catch {
    return undefined;
  }
}
