/** The path grammar every driver path follows (distribution's PathRegexp). */
export const STORAGE_PATH_PATTERN = /^(\/[A-Za-z0-9._-]+)+$/;

export const isValidStoragePath = (path: string): boolean => STORAGE_PATH_PATTERN.test(path);

/** `/` is valid only where a directory is asked for: list, stat, walk. */
export const isValidDirectoryPath = (path: string): boolean => path === '/' || isValidStoragePath(path);
