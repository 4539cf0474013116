/**
 * A configuration for stowage run from code (embedding, tests, `plugins verify`): a config document, not yet
 * written to a file, normalised as a file would be, so every setting a caller leaves out gets the default a
 * config file would get (including settings added later).
 */
import { normalize } from './normalize.js';
import { Origins } from './origins.js';
import type { StowageConfig } from './types.js';

export const EMBEDDED_FILE = '<embedded>';

/** `document` in the shape of stowage.config.yaml; it is not validated, callers build it from typed values. */
export function embeddedConfig(document: Record<string, unknown>, baseDir: string = process.cwd()): StowageConfig {
  return normalize(document, {
    cwd: baseDir,
    baseDir,
    source: { format: 'defaults' },
    origins: new Origins({ file: EMBEDDED_FILE, path: '' }),
    warnings: [],
  });
}
