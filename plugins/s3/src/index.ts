/**
 * stowage-driver-s3: Amazon S3 (and S3-compatible stores) for stowage, with distribution's s3 driver
 * option names; requests signed with Signature Version 4.
 */
import type { DriverFactoryV1, StorageDriverV1 } from 'stowage';
import { S3Client } from './client.js';
import { S3Driver } from './driver.js';
import { resolveS3Options, type S3Options } from './options.js';
import { S3Store } from './store.js';

export type { S3Options } from './options.js';
export { S3OptionError } from './options.js';

export const createDriver: DriverFactoryV1<S3Options> = async (rawOptions, context): Promise<StorageDriverV1> => {
  const options = resolveS3Options(rawOptions);
  if (rawOptions.v4auth === false) context.logger.warn({}, 's3: v4auth false is not supported; requests are signed with Signature Version 4');
  const client = new S3Client(options, context.logger);
  try {
    const bucket = await client.request({ method: 'HEAD', accept: [404] }, `check bucket ${options.bucket}`);
    if (bucket.status === 404) {
      if (!options.createBucket) throw new Error(`s3 bucket ${options.bucket} does not exist (set createbucket: true to create it)`);
      await client.request({ method: 'PUT', body: '' }, `create bucket ${options.bucket}`);
    }
    context.logger.info({ bucket: options.bucket, endpoint: options.endpoint, pathStyle: options.pathStyle }, 's3 driver ready');
    return new S3Driver(client, new S3Store(client), options, context);
  } catch (err) {
    await client.close();
    throw err;
  }
};

export default createDriver;
