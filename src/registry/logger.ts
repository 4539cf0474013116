/** The logging the registry needs; a pino logger fits it. */
export type { DriverLogger as RegistryLogger } from '../storage/driver.js';

import type { DriverLogger } from '../storage/driver.js';

const ignore = (): void => undefined;
export const silentLogger: DriverLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
