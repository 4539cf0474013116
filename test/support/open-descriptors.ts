import { readdirSync, readlinkSync } from 'node:fs';

/** What this process's open descriptors under `root` point to (from /proc/self/fd): a leaked file shows here. */
export function descriptorsUnder(root: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(root)) open.push(target);
    } catch {
      // closed between the listing and the readlink (the listing's own descriptor)
    }
  }
  return open;
}
