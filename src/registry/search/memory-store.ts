/** The search index in this process's memory: lost at exit, built again from storage on the first search. */
import { foldForSearch, foldedValues, type Annotations, type SearchStore, type TagAnnotations } from './store.js';

interface TagRow {
  readonly annotations: Annotations;
  readonly at: number;
}

interface RepositoryRow {
  readonly tags: Map<string, TagRow>;
  at: number;
  refreshedAt: number;
}

export class MemorySearchStore implements SearchStore {
  readonly kind = 'memory' as const;
  private readonly repositories = new Map<string, RepositoryRow>();
  private built: number | undefined;

  private row(name: string): RepositoryRow {
    let row = this.repositories.get(name);
    if (!row) {
      row = { tags: new Map(), at: 0, refreshedAt: 0 };
      this.repositories.set(name, row);
    }
    return row;
  }

  async tagsPushed(name: string, tags: readonly string[], annotations: Annotations, at: number): Promise<void> {
    const row = this.row(name);
    row.at = Math.max(row.at, at);
    for (const tag of tags) {
      const known = row.tags.get(tag);
      if (!known || known.at <= at) row.tags.set(tag, { annotations, at });
    }
  }

  async refresh(name: string, tags: TagAnnotations | undefined, readAt: number): Promise<void> {
    const existing = this.repositories.get(name);
    if (existing && existing.refreshedAt > readAt) return;
    if (!tags && !existing) return;
    const row = existing ?? this.row(name);
    for (const [tag, known] of row.tags) if (known.at < readAt && !tags?.has(tag)) row.tags.delete(tag);
    for (const [tag, annotations] of tags ?? []) {
      const known = row.tags.get(tag);
      if (!known || known.at < readAt) row.tags.set(tag, { annotations, at: readAt });
    }
    if (!tags && row.tags.size === 0 && row.at < readAt) {
      this.repositories.delete(name);
      return;
    }
    row.at = Math.max(row.at, readAt);
    row.refreshedAt = readAt;
  }

  async tagsRemoved(name: string, tags: readonly string[], at: number): Promise<void> {
    const row = this.repositories.get(name);
    if (!row) return;
    for (const tag of tags) if ((row.tags.get(tag)?.at ?? at) < at) row.tags.delete(tag);
  }

  async prune(present: ReadonlySet<string>, readAt: number): Promise<void> {
    for (const [name, row] of this.repositories) if (!present.has(name) && row.at < readAt) this.repositories.delete(name);
  }

  async candidates(folded: string, after: string | undefined, limit: number): Promise<string[]> {
    const found: string[] = [];
    for (const name of [...this.repositories.keys()].sort()) {
      if (after !== undefined && name <= after) continue;
      const tags = [...this.repositories.get(name)!.tags];
      const matches = foldForSearch(name).includes(folded) || tags.some(([tag, row]) => foldForSearch(tag).includes(folded) || foldedValues(row.annotations).includes(folded));
      if (!matches) continue;
      found.push(name);
      if (found.length >= limit) break;
    }
    return found;
  }

  async entries(names: readonly string[]): Promise<Map<string, TagAnnotations>> {
    const entries = new Map<string, TagAnnotations>();
    for (const name of names) {
      const row = this.repositories.get(name);
      if (row) entries.set(name, new Map([...row.tags].map(([tag, known]) => [tag, known.annotations])));
    }
    return entries;
  }

  async builtAt(): Promise<number | undefined> {
    return this.built;
  }

  async markBuilt(at: number): Promise<void> {
    this.built = at;
  }

  async close(): Promise<void> {}
}
