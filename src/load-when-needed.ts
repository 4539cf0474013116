/**
 * CommonJS packages that only some configurations or commands use (redis caches, error mail, a PostgreSQL
 * search index, undici for upstreams and notification endpoints, pino-pretty for text logs, cli-progress),
 * loaded the first time they are needed instead of at start-up. Each costs several MiB of resident memory
 * in every process that imports it, used or not (docs/bench.md, peak RSS); `import type` keeps their types.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A function returning the package `name` (`require`d once, on the first call). */
export function loadWhenNeeded<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(name) as T);
}
