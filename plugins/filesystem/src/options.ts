/** The filesystem driver's options, after stowage validated them against schema.json. */
export interface FilesystemOptions {
  /** where the tree lives; relative paths are resolved against the config file's folder */
  readonly rootdirectory?: string;
  /** accepted for distribution configs; Node's thread pool does the blocking I/O */
  readonly maxthreads?: number;
  /** bytes of synced upload data the driver keeps in the page cache (the newest), `unlimited`, or `auto` (page-cache.ts, index.ts) */
  readonly uploadcache?: number | 'unlimited' | 'auto';
  /** small files and folders synced together by one syncfs per filesystem (`auto`) or each alone (`off`) (group-sync.ts) */
  readonly groupsync?: 'auto' | 'off';
}

export const DEFAULT_ROOT_DIRECTORY = '/var/lib/registry';
