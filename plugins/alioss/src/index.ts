/** The stowage-driver-alioss plugin entry: validated options in, an Aliyun OSS driver out. */
import type { DriverFactory } from 'stowage';
import { ObjectDriver } from '@stowage/backend-kit';
import { type AliOssOptions, resolveOptions } from './options.js';
import { OssStore } from './oss-store.js';

export type { AliOssOptions } from './options.js';
export { AliOssOptionError } from './options.js';

export const createDriver: DriverFactory<AliOssOptions> = (options, context) => {
  const resolved = resolveOptions(options);
  return new ObjectDriver({
    name: 'alioss',
    store: new OssStore(resolved, context.logger),
    rootDirectory: resolved.rootDirectory,
    errors: context.errors,
    logger: context.logger,
    redirectExpiry: resolved.redirectExpiry,
  });
};

export default createDriver;
