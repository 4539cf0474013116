/**
 * The `search` section (stowage's; distribution has no search): where the search index behind
 * `/v1/search` and `/v2/_stowage/search` lives. A docker-registry file's `search_backend: sqlalchemy` with
 * `sqlalchemy_index_database` arrives here translated by legacy-seed-keys.ts (sqlalchemyDatabase below).
 */
import path from 'node:path';
import type { Origins } from './origins.js';
import type { ConfigIssue, LegacyValue } from './types.js';

export type SearchBackend = 'sqlite' | 'postgres' | 'memory' | 'none';

export interface SearchConfig {
  /** sqlite: a file (the default); postgres: a shared server; memory: each process builds its own; none: search is off */
  readonly backend: SearchBackend;
  /** the SQLite file (absolute), backend sqlite */
  readonly path?: string;
  /** the PostgreSQL connection string (never logged), backend postgres */
  readonly url?: string;
  /** how the SQLite file was chosen, for the startup log */
  readonly pathFrom?: 'search.path' | 'storage root';
}

/** the default SQLite file's name inside the filesystem driver's root directory */
export const DEFAULT_SQLITE_FILE = 'stowage-search.sqlite';

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

/** the built-in filesystem driver's names (`local` is the seeds') */
const FILESYSTEM_DRIVERS = new Set(['filesystem', 'local']);

/** the filesystem driver's root directory as written (its option, or the seed key storage_path), absolute */
function filesystemRoot(driver: string, options: Mapping, legacy: Readonly<Record<string, LegacyValue>> | undefined, baseDir: string): string | undefined {
  if (!FILESYSTEM_DRIVERS.has(driver)) return undefined;
  const root = options.rootdirectory ?? legacy?.storage_path?.value;
  return typeof root === 'string' && root !== '' ? path.resolve(baseDir, root) : undefined;
}

export function searchConfigOf(
  document: Mapping,
  storage: { driver: string; options: Mapping; legacy?: Readonly<Record<string, LegacyValue>> },
  baseDir: string,
  origins: Origins,
  issues: ConfigIssue[],
): SearchConfig {
  const section = isMapping(document.search) ? document.search : {};
  const written = typeof section.backend === 'string' ? (section.backend as SearchBackend) : undefined;
  const file = typeof section.path === 'string' && section.path !== '' ? path.resolve(baseDir, section.path) : undefined;
  const url = typeof section.url === 'string' && section.url !== '' ? section.url : undefined;
  if (written === 'postgres') {
    // the schema requires url with backend postgres
    return { backend: 'postgres', url: url! };
  }
  if (written === 'memory' || written === 'none') return { backend: written };
  if (file) return { backend: 'sqlite', path: file, pathFrom: 'search.path' };
  const root = filesystemRoot(storage.driver, storage.options, storage.legacy, baseDir);
  if (root) return { backend: 'sqlite', path: path.join(root, DEFAULT_SQLITE_FILE), pathFrom: 'storage root' };
  if (written === 'sqlite') {
    issues.push({ ...origins.locate(['search', 'backend']), message: `search.backend: sqlite needs search.path (the database file) with the ${storage.driver} driver; only the filesystem driver has a default (${DEFAULT_SQLITE_FILE} in its rootdirectory)` });
  }
  // a remote storage driver and no file named: each process keeps the index in memory
  return { backend: 'memory' };
}

/**
 * A SQLAlchemy database URL (the seeds' `sqlalchemy_index_database`) as a `search` section: `sqlite:///relative`,
 * `sqlite:////absolute`, `sqlite://` (SQLAlchemy's in-memory database), `postgresql://` and
 * `postgresql+<driver>://`. An error message for anything else (mysql://, …).
 */
export function sqlalchemyDatabase(url: string): { search: Mapping } | { error: string } {
  const sqlite = /^sqlite(?:\+[a-z0-9_]+)?:\/\/(.*)$/i.exec(url);
  if (sqlite) {
    const rest = sqlite[1]!;
    if (rest === '' || rest === '/' || rest === '/:memory:') return { search: { backend: 'memory' } };
    if (!rest.startsWith('/')) return { error: `expected sqlite:///relative/file or sqlite:////absolute/file, got a host in ${JSON.stringify(url)}` };
    // sqlite:///x is x relative; sqlite:////x is /x (SQLAlchemy's reading); a query (?mode=…) is not supported
    const file = rest.slice(1).replace(/\?.*$/, '');
    return { search: { backend: 'sqlite', path: file } };
  }
  const postgres = /^(postgres(?:ql)?)(?:\+[a-z0-9_]+)?(:\/\/.*)$/i.exec(url);
  if (postgres) return { search: { backend: 'postgres', url: `postgresql${postgres[2]}` } };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  const what = scheme ? `the ${JSON.stringify(scheme)} database is not supported for search` : 'expected a database URL';
  // the URL itself is not repeated: it may hold a password
  return { error: `${what}: use sqlite:///relative/file, sqlite:////absolute/file or postgresql://host/database (with user and password before the host)` };
}

/** the connection string's password, for the log redactor */
export function searchSecrets(config: { readonly search?: SearchConfig }): string[] {
  const url = config.search?.url;
  if (!url) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password, url] : [url];
  } catch {
    return [url];
  }
}
