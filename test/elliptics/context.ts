/** Driver context and driver construction for the Elliptics tests. */
import type { DriverContext, StorageDriver } from '../../src/storage/driver.js';
import { driverErrors } from '../../src/storage/errors.js';
import { createDriver, type EllipticsOptions } from '../../plugins/elliptics/src/index.js';

export const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

export const testContext = (): DriverContext => ({ logger: quietLogger, errors: driverErrors('elliptics'), baseDir: process.cwd() });

export const ellipticsDriver = async (options: EllipticsOptions): Promise<StorageDriver> => createDriver(options, testContext());
