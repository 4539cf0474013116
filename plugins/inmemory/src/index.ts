import type { DriverFactory } from 'stowage';
import { InMemoryDriver } from './driver.js';

/** The inmemory driver takes no options. */
export const createDriver: DriverFactory<Record<string, never>> = (_options, context) => new InMemoryDriver(context);

export default createDriver;
