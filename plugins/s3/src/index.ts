/**
 * stowage-driver-s3: Amazon S3 (and S3-compatible stores) for stowage, with distribution's s3 driver
 * option names; requests signed with Signature Version 4. The driver is the backend kit's ObjectDriver
 * over an S3Store, the same one alioss and ufile use.
 */
import type { DriverFactory, StorageDriver } from 'stowage';
import { ObjectDriver } from '@stowage/backend-kit';
import { resolveS3Options, type S3Options } from './options.js';
import { S3Store } from './s3-store.js';

export type { S3Options } from './options.js';
export { S3OptionError } from './options.js';

export const createDriver: DriverFactory<S3Options> = async (rawOptions, context): Promise<StorageDriver> => {
  const options = resolveS3Options(rawOptions);
  if (rawOptions.v4auth === false) context.logger.warn({}, 's3: v4auth false is not supported; requests are signed with Signature Version 4');
  const store = new S3Store(options, context.logger);
  try {
    if (!(await store.bucketExists())) {
      if (!options.createBucket) throw new Error(`s3 bucket ${options.bucket} does not exist (set createbucket: true to create it)`);
      await store.createBucket();
    }
    context.logger.info({ bucket: options.bucket, endpoint: options.endpoint, pathStyle: options.pathStyle }, 's3 driver ready');
    return new ObjectDriver({
      name: 's3',
      store,
      rootDirectory: options.rootDirectory,
      errors: context.errors,
      logger: context.logger,
      redirectExpiry: 20 * 60,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
};

export default createDriver;
