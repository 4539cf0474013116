/** The stowage-driver-ufile plugin entry: validated options in, a UCloud UFile driver out. */
import type { DriverFactory } from 'stowage';
import { ObjectDriver } from '@stowage/backend-kit';
import { resolveOptions, type UFileOptions } from './options.js';
import { UFileStore } from './ufile-store.js';

export type { UFileOptions } from './options.js';
export { UFileOptionError } from './options.js';

export const createDriver: DriverFactory<UFileOptions> = (options, context) => {
  const resolved = resolveOptions(options);
  return new ObjectDriver({
    name: 'ufile',
    store: new UFileStore(resolved, context.logger),
    rootDirectory: resolved.rootDirectory,
    errors: context.errors,
    logger: context.logger,
    redirectExpiry: resolved.redirectExpiry,
  });
};

export default createDriver;
