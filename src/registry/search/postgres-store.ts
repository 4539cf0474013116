/**
 * The search index in PostgreSQL (node-postgres), for several stowage processes sharing one storage: each
 * records its pushes and deletes there, so a search through any of them sees them all. The schema is created
 * on first use, under an advisory lock so processes starting together do not race; each change is one
 * transaction, with the repository's row locked while it is refreshed.
 */
import type pg from 'pg';
import { loadWhenNeeded } from '../../load-when-needed.js';
import type { RegistryLogger } from '../logger.js';
import { foldForSearch, foldedValues, SEARCH_SCHEMA_VERSION, type Annotations, type SearchStore, type TagAnnotations } from './store.js';

const postgres = loadWhenNeeded<typeof pg>('pg');

/** the advisory lock the schema migration holds (any constant, the same in every stowage) */
const MIGRATION_LOCK = 0x5e4c_1d3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS stowage_search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stowage_search_repositories (
  name TEXT COLLATE "C" PRIMARY KEY,
  updated_at BIGINT NOT NULL,
  refreshed_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stowage_search_tags (
  repository TEXT COLLATE "C" NOT NULL REFERENCES stowage_search_repositories(name) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  annotations TEXT NOT NULL,
  tag_folded TEXT NOT NULL,
  values_folded TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (repository, tag)
);
`;

/** `postgresql://user:secret@host/db` with the password masked, for logs */
export function maskedConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '*****';
    return parsed.toString();
  } catch {
    return '(an unparsable connection string)';
  }
}

/** text PostgreSQL can store: without NUL */
const storable = (text: string): string => text.replace(/\u0000/g, '\uFFFD');

export class PostgresSearchStore implements SearchStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private migrated: Promise<void> | undefined;
  private closed: Promise<void> | undefined;

  constructor(connectionString: string, logger?: RegistryLogger) {
    this.location = maskedConnectionString(connectionString);
    this.pool = new (postgres().Pool)({ connectionString, max: 4 });
    // an idle connection that breaks must not end the process; the next query reconnects
    this.pool.on('error', (err) => logger?.warn({ err, index: this.location }, 'search index: a PostgreSQL connection failed'));
  }

  private ready(): Promise<void> {
    this.migrated ??= this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(SCHEMA);
      const version = await client.query<{ value: string }>("SELECT value FROM stowage_search_meta WHERE key = 'schema'");
      if (version.rows[0] && Number(version.rows[0].value) > SEARCH_SCHEMA_VERSION) {
        throw new Error(`search index ${this.location} has schema version ${version.rows[0].value}, newer than this stowage's ${SEARCH_SCHEMA_VERSION}`);
      }
      await client.query("INSERT INTO stowage_search_meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO NOTHING", [String(SEARCH_SCHEMA_VERSION)]);
    }, false).catch((err: unknown) => {
      // tried again on the next use (the server may come up later)
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, migrate = true): Promise<T> {
    if (migrate) await this.ready();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    await this.ready();
    return (await this.pool.query<R>(text, values)).rows;
  }

  private static async upsertRepository(client: pg.PoolClient, name: string, at: number): Promise<void> {
    await client.query(
      `INSERT INTO stowage_search_repositories (name, updated_at) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET updated_at = GREATEST(stowage_search_repositories.updated_at, excluded.updated_at)`,
      [name, at],
    );
  }

  private static async upsertTag(client: pg.PoolClient, name: string, tag: string, annotations: Annotations, at: number, onlyOlderThan: boolean): Promise<void> {
    await client.query(
      `INSERT INTO stowage_search_tags (repository, tag, annotations, tag_folded, values_folded, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (repository, tag) DO UPDATE SET annotations = excluded.annotations, values_folded = excluded.values_folded, updated_at = excluded.updated_at
       WHERE stowage_search_tags.updated_at ${onlyOlderThan ? '<' : '<='} excluded.updated_at`,
      [name, storable(tag), JSON.stringify(annotations), foldForSearch(tag), foldedValues(annotations), at],
    );
  }

  async tagsPushed(name: string, tags: readonly string[], annotations: Annotations, at: number): Promise<void> {
    await this.transaction(async (client) => {
      await PostgresSearchStore.upsertRepository(client, name, at);
      for (const tag of tags) await PostgresSearchStore.upsertTag(client, name, tag, annotations, at, false);
    });
  }

  async refresh(name: string, tags: TagAnnotations | undefined, readAt: number): Promise<void> {
    await this.transaction(async (client) => {
      const existing = (
        await client.query<{ updated_at: string; refreshed_at: string }>('SELECT updated_at, refreshed_at FROM stowage_search_repositories WHERE name = $1 FOR UPDATE', [name])
      ).rows[0];
      if (existing && Number(existing.refreshed_at) > readAt) return;
      if (!tags && !existing) return;
      await PostgresSearchStore.upsertRepository(client, name, readAt);
      // the row is locked now (inserted or updated): refreshes of one repository run one after the other
      const stale = await client.query<{ tag: string }>('SELECT tag FROM stowage_search_tags WHERE repository = $1 AND updated_at < $2', [name, readAt]);
      const removed = stale.rows.map((row) => row.tag).filter((tag) => !tags?.has(tag));
      if (removed.length > 0) await client.query('DELETE FROM stowage_search_tags WHERE repository = $1 AND tag = ANY($2)', [name, removed]);
      for (const [tag, annotations] of tags ?? []) await PostgresSearchStore.upsertTag(client, name, tag, annotations, readAt, true);
      if (!tags && Number(existing!.updated_at) < readAt && (await client.query('SELECT 1 FROM stowage_search_tags WHERE repository = $1 LIMIT 1', [name])).rowCount === 0) {
        await client.query('DELETE FROM stowage_search_repositories WHERE name = $1', [name]);
        return;
      }
      await client.query('UPDATE stowage_search_repositories SET refreshed_at = $1 WHERE name = $2', [readAt, name]);
    });
  }

  async tagsRemoved(name: string, tags: readonly string[], at: number): Promise<void> {
    if (tags.length === 0) return;
    await this.query('DELETE FROM stowage_search_tags WHERE repository = $1 AND tag = ANY($2) AND updated_at < $3', [name, tags.map(storable), at]);
  }

  async prune(present: ReadonlySet<string>, readAt: number): Promise<void> {
    await this.transaction(async (client) => {
      const untouched = await client.query<{ name: string }>('SELECT name FROM stowage_search_repositories WHERE updated_at < $1', [readAt]);
      const gone = untouched.rows.map((row) => row.name).filter((name) => !present.has(name));
      if (gone.length > 0) await client.query('DELETE FROM stowage_search_repositories WHERE name = ANY($1) AND updated_at < $2', [gone, readAt]);
    });
  }

  async candidates(folded: string, after: string | undefined, limit: number): Promise<string[]> {
    // strpos, not LIKE/ILIKE: the term is data, never a pattern (no wildcard or escape can reach SQL)
    const rows = await this.query<{ name: string }>(
      `SELECT r.name FROM stowage_search_repositories r WHERE r.name > $1 AND (strpos(r.name, $2) > 0 OR EXISTS (
         SELECT 1 FROM stowage_search_tags t WHERE t.repository = r.name AND (strpos(t.tag_folded, $2) > 0 OR strpos(t.values_folded, $2) > 0)))
       ORDER BY r.name LIMIT $3`,
      [storable(after ?? ''), storable(folded), limit],
    );
    return rows.map((row) => row.name);
  }

  async entries(names: readonly string[]): Promise<Map<string, TagAnnotations>> {
    const entries = new Map<string, Map<string, Annotations>>();
    if (names.length === 0) return entries;
    const known = await this.query<{ name: string }>('SELECT name FROM stowage_search_repositories WHERE name = ANY($1)', [names]);
    for (const { name } of known) entries.set(name, new Map());
    const rows = await this.query<{ repository: string; tag: string; annotations: string }>('SELECT repository, tag, annotations FROM stowage_search_tags WHERE repository = ANY($1)', [names]);
    for (const row of rows) entries.get(row.repository)?.set(row.tag, JSON.parse(row.annotations) as Annotations);
    return entries;
  }

  async builtAt(): Promise<number | undefined> {
    const rows = await this.query<{ value: string }>("SELECT value FROM stowage_search_meta WHERE key = 'built_at'", []);
    return rows[0] ? Number(rows[0].value) : undefined;
  }

  async markBuilt(at: number): Promise<void> {
    await this.query("INSERT INTO stowage_search_meta (key, value) VALUES ('built_at', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(at)]);
  }

  async close(): Promise<void> {
    this.closed ??= this.pool.end();
    await this.closed;
  }
}
