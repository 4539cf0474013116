import { resolve } from 'node:path';
import type { DriverFactory } from 'stowage';
import { FilesystemDriver } from './driver.js';
import { DEFAULT_ROOT_DIRECTORY, type FilesystemOptions } from './options.js';
import { KeptPages } from './page-cache.js';

export type { FilesystemOptions } from './options.js';

export const createDriver: DriverFactory<FilesystemOptions> = (options, context) => {
  const root = resolve(context.baseDir, options.rootdirectory ?? DEFAULT_ROOT_DIRECTORY);
  context.logger.debug({ rootdirectory: root }, 'filesystem driver ready');
  const uploadcache = options.uploadcache ?? 'unlimited';
  return new FilesystemDriver(root, context, uploadcache === 'unlimited' ? undefined : new KeptPages(uploadcache));
};

export default createDriver;
