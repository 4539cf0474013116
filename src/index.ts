/** The public API of the stowage package: what a plugin author or an embedding program imports. */
export * from './storage/driver.js';
export * from './storage/errors.js';
export * from './storage/paths.js';
