/**
 * The search index in an SQLite file (better-sqlite3): the default, needing no server. Write-ahead logging
 * and IMMEDIATE transactions let several processes on one machine (a `stowage search reindex` beside a
 * running server) share the file safely; over a network filesystem use PostgreSQL instead.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { foldForSearch, foldedValues, SEARCH_SCHEMA_VERSION, type Annotations, type SearchStore, type TagAnnotations } from './store.js';

/**
 * better-sqlite3 is an optional dependency (a native module: an install without a compiler or its prebuilt
 * binary goes on without it), loaded only when an SQLite index is opened
 */
function loadSqlite(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch (err) {
    throw new Error(`the SQLite search index needs the better-sqlite3 package, which did not load (${(err as Error).message.split('\n')[0]}); install it, or set search.backend to postgres or memory`, { cause: err });
  }
}

/** how long a writer waits for another process's transaction before failing */
const BUSY_TIMEOUT_MS = 10_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repositories (
  name TEXT PRIMARY KEY,
  updated_at INTEGER NOT NULL,
  refreshed_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tags (
  repository TEXT NOT NULL REFERENCES repositories(name) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  annotations TEXT NOT NULL,
  tag_folded TEXT NOT NULL,
  values_folded TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repository, tag)
);
`;

export class SqliteSearchStore implements SearchStore {
  readonly kind = 'sqlite' as const;
  private opened: Database.Database | undefined;
  private closed = false;
  /** compiled once per SQL text: better-sqlite3 compiles a statement on every prepare, a push's largest cost here */
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();
  private immediate: Database.Transaction<(run: () => void) => void> | undefined;

  /** the file is opened (and made, with its folder) at the first use, or by open() */
  constructor(readonly location: string) {}

  /** Opens the file now: a server calls it at startup, so that a file it cannot use stops it there. */
  open(): void {
    void this.db;
  }

  private get db(): Database.Database {
    if (this.opened) return this.opened;
    if (this.closed) throw new Error(`the search index ${this.location} is closed`);
    mkdirSync(path.dirname(this.location), { recursive: true });
    const Sqlite = loadSqlite();
    const db = new Sqlite(this.location, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      db.transaction(() => {
        db.exec(SCHEMA);
        const version = db.prepare<[], { value: string }>("SELECT value FROM search_meta WHERE key = 'schema'").get();
        if (version && Number(version.value) > SEARCH_SCHEMA_VERSION) {
          throw new Error(`search index ${this.location} has schema version ${version.value}, newer than this stowage's ${SEARCH_SCHEMA_VERSION}; use a newer stowage or another search.path`);
        }
        db.prepare("INSERT INTO search_meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO NOTHING").run(String(SEARCH_SCHEMA_VERSION));
      }).immediate();
    } catch (err) {
      db.close();
      throw err;
    }
    this.opened = db;
    return db;
  }

  private statement<P extends unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let compiled = this.statements.get(sql);
    if (!compiled) {
      compiled = this.db.prepare(sql);
      this.statements.set(sql, compiled);
    }
    return compiled as unknown as Database.Statement<P, R>;
  }

  private upsertRepository(name: string, at: number): void {
    this.statement('INSERT INTO repositories (name, updated_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)').run(name, at);
  }

  private upsertTag(name: string, tag: string, annotations: Annotations, at: number, onlyOlderThan: boolean): void {
    this
      .statement(
        `INSERT INTO tags (repository, tag, annotations, tag_folded, values_folded, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (repository, tag) DO UPDATE SET annotations = excluded.annotations, values_folded = excluded.values_folded, updated_at = excluded.updated_at
         WHERE tags.updated_at ${onlyOlderThan ? '<' : '<='} excluded.updated_at`,
      )
      .run(name, tag, JSON.stringify(annotations), foldForSearch(tag), foldedValues(annotations), at);
  }

  async tagsPushed(name: string, tags: readonly string[], annotations: Annotations, at: number): Promise<void> {
    this.transaction(() => {
      this.upsertRepository(name, at);
      for (const tag of tags) this.upsertTag(name, tag, annotations, at, false);
    });
  }

  async refresh(name: string, tags: TagAnnotations | undefined, readAt: number): Promise<void> {
    this.db.transaction(() => {
      const existing = this.db.prepare<[string], { updated_at: number; refreshed_at: number }>('SELECT updated_at, refreshed_at FROM repositories WHERE name = ?').get(name);
      if (existing && existing.refreshed_at > readAt) return;
      if (!tags && !existing) return;
      this.upsertRepository(name, readAt);
      const stale = this.db.prepare<[string, number], { tag: string }>('SELECT tag FROM tags WHERE repository = ? AND updated_at < ?').all(name, readAt);
      const remove = this.db.prepare('DELETE FROM tags WHERE repository = ? AND tag = ?');
      for (const { tag } of stale) if (!tags?.has(tag)) remove.run(name, tag);
      for (const [tag, annotations] of tags ?? []) this.upsertTag(name, tag, annotations, readAt, true);
      if (!tags && existing!.updated_at < readAt && !this.db.prepare('SELECT 1 FROM tags WHERE repository = ?').get(name)) {
        this.db.prepare('DELETE FROM repositories WHERE name = ?').run(name);
        return;
      }
      this.db.prepare('UPDATE repositories SET refreshed_at = ? WHERE name = ?').run(readAt, name);
    }).immediate();
  }

  async tagsRemoved(name: string, tags: readonly string[], at: number): Promise<void> {
    const remove = this.statement('DELETE FROM tags WHERE repository = ? AND tag = ? AND updated_at < ?');
    this.transaction(() => {
      for (const tag of tags) remove.run(name, tag, at);
    });
  }

  async prune(present: ReadonlySet<string>, readAt: number): Promise<void> {
    this.db.transaction(() => {
      const untouched = this.db.prepare<[number], { name: string }>('SELECT name FROM repositories WHERE updated_at < ?').all(readAt);
      const remove = this.db.prepare('DELETE FROM repositories WHERE name = ?');
      for (const { name } of untouched) if (!present.has(name)) remove.run(name);
    }).immediate();
  }

  async candidates(folded: string, after: string | undefined, limit: number): Promise<string[]> {
    // instr, not LIKE: the term is data, never a pattern (no wildcard or escape can reach SQL)
    const rows = this.db
      .prepare<[string, string, string, string, number], { name: string }>(
        `SELECT name FROM repositories r WHERE r.name > ? AND (instr(r.name, ?) > 0 OR EXISTS (
           SELECT 1 FROM tags t WHERE t.repository = r.name AND (instr(t.tag_folded, ?) > 0 OR instr(t.values_folded, ?) > 0)))
         ORDER BY r.name LIMIT ?`,
      )
      .all(after ?? '', folded, folded, folded, limit);
    return rows.map((row) => row.name);
  }

  async entries(names: readonly string[]): Promise<Map<string, TagAnnotations>> {
    const entries = new Map<string, TagAnnotations>();
    const repository = this.db.prepare<[string], { name: string }>('SELECT name FROM repositories WHERE name = ?');
    const tags = this.db.prepare<[string], { tag: string; annotations: string }>('SELECT tag, annotations FROM tags WHERE repository = ?');
    this.db.transaction(() => {
      for (const name of names) {
        if (!repository.get(name)) continue;
        entries.set(name, new Map(tags.all(name).map((row) => [row.tag, JSON.parse(row.annotations) as Annotations])));
      }
    })();
    return entries;
  }

  async builtAt(): Promise<number | undefined> {
    const row = this.db.prepare<[], { value: string }>("SELECT value FROM search_meta WHERE key = 'built_at'").get();
    return row ? Number(row.value) : undefined;
  }

  async markBuilt(at: number): Promise<void> {
    this.db.prepare("INSERT INTO search_meta (key, value) VALUES ('built_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(at));
  }

  /** one IMMEDIATE transaction (the write lock taken at its start); the wrapper, like a statement, is made once */
  private transaction(work: () => void): void {
    this.immediate ??= this.db.transaction((run: () => void) => run());
    this.immediate.immediate(work);
  }

  async close(): Promise<void> {
    this.closed = true;
    // both belong to the connection closed below
    this.statements.clear();
    this.immediate = undefined;
    if (this.opened?.open) this.opened.close();
  }
}
