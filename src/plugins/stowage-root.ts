import { fileURLToPath } from 'node:url';

/**
 * The folder of the stowage package itself (the one holding its package.json). This module sits two levels
 * below it both as source (src/plugins) and as build output (dist/plugins), so one relative URL serves both.
 */
export const STOWAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');
