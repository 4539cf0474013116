import { resolve } from 'node:path';
import type { DriverFactory } from 'stowage';
import { FilesystemDriver } from './driver.js';
import { DEFAULT_ROOT_DIRECTORY, type FilesystemOptions } from './options.js';
import { balloonReportsFreePages } from './free-page-reporting.js';
import { KeptPages } from './page-cache.js';
import { enableGroupSync } from './group-sync.js';

/** the budget `uploadcache: auto` sets on a VM whose balloon reports free pages: the newest pushes stay cached */
export const AUTO_UPLOAD_CACHE = 512 * 1024 * 1024;

export type { FilesystemOptions } from './options.js';

export const createDriver: DriverFactory<FilesystemOptions> = (options, context) => {
  const root = resolve(context.baseDir, options.rootdirectory ?? DEFAULT_ROOT_DIRECTORY);
  const uploadcache = uploadCacheBytes(options.uploadcache ?? 'auto');
  const groupsync = (options.groupsync ?? 'auto') === 'off' ? { grouped: false, why: 'groupsync: off' } : enableGroupSync(root);
  context.logger.debug({ rootdirectory: root, uploadcache: uploadcache ?? 'unlimited', groupsync: groupsync.grouped ? `syncfs (${groupsync.why})` : `each file and folder alone: ${groupsync.why}` }, 'filesystem driver ready');
  return new FilesystemDriver(root, context, uploadcache === undefined ? undefined : new KeptPages(uploadcache));
};

/** the page-cache budget of synced upload bytes an `uploadcache` value asks for; undefined: none (the kernel decides) */
export function uploadCacheBytes(uploadcache: NonNullable<FilesystemOptions['uploadcache']>, reportsFreePages = balloonReportsFreePages): number | undefined {
  if (uploadcache === 'unlimited') return undefined;
  if (uploadcache === 'auto') return reportsFreePages() ? AUTO_UPLOAD_CACHE : undefined;
  return uploadcache;
}

export default createDriver;
