import { resolve } from 'node:path';
import type { DriverFactory } from 'stowage';
import { FilesystemDriver } from './driver.js';
import { DEFAULT_ROOT_DIRECTORY, type FilesystemOptions } from './options.js';

export type { FilesystemOptions } from './options.js';

export const createDriver: DriverFactory<FilesystemOptions> = (options, context) => {
  const root = resolve(context.baseDir, options.rootdirectory ?? DEFAULT_ROOT_DIRECTORY);
  context.logger.debug({ rootdirectory: root }, 'filesystem driver ready');
  return new FilesystemDriver(root, context);
};

export default createDriver;
