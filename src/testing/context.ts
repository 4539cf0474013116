import type { DriverContext, DriverLogger } from '../storage/driver.js';
import { driverErrors } from '../storage/errors.js';

const quietLogger: DriverLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * The context stowage hands a driver factory, for tests: errors built the way stowage builds them,
 * a logger that stays quiet unless one is given, and the working directory as `baseDir`.
 */
export function createDriverContext(name: string, logger: DriverLogger = quietLogger, baseDir: string = process.cwd()): DriverContext {
  return { logger, errors: driverErrors(name), baseDir };
}
