/**
 * The search index: every repository and its tags, held in memory by the process. It is built from storage
 * (the catalog and each repository's tag list) on the first search, and kept up to date by the registry on
 * each manifest push and delete. Being rebuilt from storage at each start, it needs no server and can never
 * disagree with storage for long; a push through another process sharing the storage is not seen until
 * this process restarts (a shared index for several processes is not implemented yet).
 */
import type { Page, PageRequest } from './pagination.js';

/** what the index reads storage through (the Registry) */
export interface SearchSource {
  catalog(request: PageRequest): Promise<Page>;
  listTags(name: string, request: PageRequest): Promise<Page>;
}

export interface SearchHit {
  readonly name: string;
  /** the repository's tags that contain the term, or all its tags when its name does */
  readonly tags: readonly string[];
}

const LISTING_PAGE = 1000;

async function allOf(list: (request: PageRequest) => Promise<Page>): Promise<string[]> {
  const entries: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await list({ n: LISTING_PAGE, ...(last !== undefined ? { last } : {}) });
    entries.push(...page.entries);
    if (page.next === undefined) return entries;
    last = page.next;
  }
}

export class SearchIndex {
  private repositories: Map<string, Set<string>> | undefined;
  private building: Promise<Map<string, Set<string>>> | undefined;
  /** changes seen while a build was reading storage, applied once it is done */
  private pending: Array<(index: Map<string, Set<string>>) => void> = [];

  /** Reads every repository and tag from storage, replacing what the index held. */
  async rebuild(source: SearchSource): Promise<void> {
    this.repositories = undefined;
    this.building = undefined;
    await this.ready(source);
  }

  private async ready(source: SearchSource): Promise<Map<string, Set<string>>> {
    if (this.repositories) return this.repositories;
    this.building ??= (async () => {
      const index = new Map<string, Set<string>>();
      for (const name of await allOf((request) => source.catalog(request))) {
        index.set(name, new Set(await allOf((request) => source.listTags(name, request))));
      }
      for (const change of this.pending) change(index);
      this.pending = [];
      this.repositories = index;
      return index;
    })().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private change(apply: (index: Map<string, Set<string>>) => void): void {
    if (this.repositories) apply(this.repositories);
    else if (this.building) this.pending.push(apply);
    // not built yet: the build will read this change from storage
  }

  /** A manifest was pushed to `name`, under `tags` (none for a push by digest). */
  manifestPushed(name: string, tags: readonly string[]): void {
    this.change((index) => {
      const known = index.get(name) ?? new Set<string>();
      for (const tag of tags) known.add(tag);
      index.set(name, known);
    });
  }

  /** A manifest or tag of `name` was deleted: its tags are read again from storage. */
  async manifestDeleted(name: string, source: SearchSource): Promise<void> {
    if (!this.repositories && !this.building) return;
    const tags = await allOf((request) => source.listTags(name, request)).catch(() => [] as string[]);
    this.change((index) => index.set(name, new Set(tags)));
  }

  /**
   * Repositories whose name or one of whose tags contains `term` (case-insensitive; an empty term matches
   * all), in lexical order, keeping only those `visible` admits.
   */
  async search(source: SearchSource, term: string, visible: (name: string) => boolean): Promise<SearchHit[]> {
    const index = await this.ready(source);
    const needle = term.toLowerCase();
    const hits: SearchHit[] = [];
    for (const name of [...index.keys()].sort()) {
      if (!visible(name)) continue;
      const tags = [...index.get(name)!].sort();
      if (name.toLowerCase().includes(needle)) hits.push({ name, tags });
      else {
        const matching = tags.filter((tag) => tag.toLowerCase().includes(needle));
        if (matching.length > 0) hits.push({ name, tags: matching });
      }
    }
    return hits;
  }
}
