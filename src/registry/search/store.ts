/**
 * Where the search index keeps its rows: repositories, their tags, and the annotations of the manifest each
 * tag names. Three stores: in this process's memory (memory-store.ts), an SQLite file (sqlite-store.ts) and
 * PostgreSQL (postgres-store.ts), all with the same rules, which keep an index rebuilt from storage right
 * while pushes and deletes go on (through this process or another sharing the store):
 * - every row carries the time it was written (`at`, microseconds since the epoch);
 * - a refresh writes what storage held when it was read (`readAt`): it never overwrites or removes a tag row
 *   written after `readAt` (a push that storage had not shown the read yet), and it is skipped altogether when
 *   the repository was refreshed from a later read already (a delete's refresh saw more than this one);
 * - a manifest delete removes only the rows of the tags it removed from storage, and only those written before
 *   the delete began (`at`): a push of one of them since keeps its row.
 * Matching is done twice: a store lists candidates whose folded name, tag or annotation values contain the
 * folded term (a superset), and the index (index.ts) decides on each with the exact rule.
 */

export type Annotations = Readonly<Record<string, string>>;

/** one repository's tags and the annotations of the manifest each names */
export type TagAnnotations = ReadonlyMap<string, Annotations>;

export interface SearchStore {
  /** for logs and `stowage search reindex`: memory, sqlite, postgres, or none (search off) */
  readonly kind: 'memory' | 'sqlite' | 'postgres' | 'none';
  /** where it is (file path, or the connection string with its password masked); undefined in memory */
  readonly location?: string;
  /** `tags` of `name` now name a manifest with `annotations` (a push); the repository is recorded even with no tag */
  tagsPushed(name: string, tags: readonly string[], annotations: Annotations, at: number): Promise<void>;
  /**
   * `tags` is everything storage held for `name` when read at `readAt`; undefined when the repository is not
   * in storage at all. Rows written after `readAt` stay as they are.
   */
  refresh(name: string, tags: TagAnnotations | undefined, readAt: number): Promise<void>;
  /**
   * `tags` of `name` were removed from storage by a delete that began at `at` (a manifest delete: the tags that
   * named it); their rows written before `at` go. The repository and its other tags stay as they are.
   */
  tagsRemoved(name: string, tags: readonly string[], at: number): Promise<void>;
  /** removes the repositories not in `present` (the catalog read from `readAt`) that nothing wrote since */
  prune(present: ReadonlySet<string>, readAt: number): Promise<void>;
  /**
   * At most `limit` repository names after `after`, in code-point order, whose name, a tag, or an annotation
   * value, folded (foldForSearch), contains `folded`.
   */
  candidates(folded: string, after: string | undefined, limit: number): Promise<string[]>;
  /** the tags of each of `names` that the store holds */
  entries(names: readonly string[]): Promise<Map<string, TagAnnotations>>;
  /** when the index was last built from all of storage (the time the build started reading); undefined: never */
  builtAt(): Promise<number | undefined>;
  markBuilt(at: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The case-folded form stores match on: lowercase, with NUL (which PostgreSQL text cannot hold) as U+FFFD.
 * Folding can make a candidate of a non-match (NUL and U+FFFD fold alike), never the reverse: the index checks
 * each candidate exactly.
 */
export const foldForSearch = (text: string): string => text.toLowerCase().replace(/\u0000/g, '\uFFFD');

/** the folded annotation values of a tag, joined as stores keep them (a candidate test: joined values may match across) */
export const foldedValues = (annotations: Annotations): string => Object.values(annotations).map(foldForSearch).join('\n');

/** the stores' schema version, kept in their meta table: a store refuses a database of a later one */
export const SEARCH_SCHEMA_VERSION = 1;
