/**
 * The search index: every repository, its tags, and the annotations of the manifest each tag names, held
 * in memory by the process. It is built from storage
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
  /** the top-level `annotations` of the manifest `tag` names ({} when none, or when it went away) */
  tagAnnotations(name: string, tag: string): Promise<Annotations>;
}

export type Annotations = Readonly<Record<string, string>>;

/** the annotation shown as a repository's description (docker search's DESCRIPTION column) */
export const DESCRIPTION_ANNOTATION = 'org.opencontainers.image.description';

/** a manifest's top-level string annotations; {} for anything else (the registry validated the manifest already) */
export function annotationsOf(content: Uint8Array): Annotations {
  try {
    const parsed = JSON.parse(Buffer.from(content).toString('utf8')) as { annotations?: unknown };
    const raw = parsed.annotations;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return {};
    return Object.fromEntries(Object.entries(raw).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

type Repositories = Map<string, Map<string, Annotations>>;

async function tagsOf(source: SearchSource, name: string): Promise<Map<string, Annotations>> {
  const tags = new Map<string, Annotations>();
  for (const tag of await allOf((request) => source.listTags(name, request))) tags.set(tag, await source.tagAnnotations(name, tag));
  return tags;
}

export interface SearchHit {
  readonly name: string;
  /** the repository's tags that contain the term (or whose manifest's annotations do), or all its tags when its name does */
  readonly tags: readonly string[];
  /** the `org.opencontainers.image.description` annotation of the first of `tags` that has one */
  readonly description?: string;
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
  private repositories: Repositories | undefined;
  private building: Promise<Repositories> | undefined;
  /** changes seen while a build was reading storage, applied once it is done */
  private pending: Array<(index: Repositories) => void> = [];

  /** Reads every repository and tag from storage, replacing what the index held. */
  async rebuild(source: SearchSource): Promise<void> {
    this.repositories = undefined;
    this.building = undefined;
    await this.ready(source);
  }

  private async ready(source: SearchSource): Promise<Repositories> {
    if (this.repositories) return this.repositories;
    this.building ??= (async () => {
      const index = new Map<string, Map<string, Annotations>>();
      for (const name of await allOf((request) => source.catalog(request))) {
        index.set(name, await tagsOf(source, name));
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

  private change(apply: (index: Repositories) => void): void {
    if (this.repositories) apply(this.repositories);
    else if (this.building) this.pending.push(apply);
    // not built yet: the build will read this change from storage
  }

  /** A manifest with `annotations` was pushed to `name`, under `tags` (none for a push by digest). */
  manifestPushed(name: string, tags: readonly string[], annotations: Annotations): void {
    this.change((index) => {
      const known = index.get(name) ?? new Map<string, Annotations>();
      for (const tag of tags) known.set(tag, annotations);
      index.set(name, known);
    });
  }

  /** A manifest or tag of `name` was deleted: its tags are read again from storage. */
  async manifestDeleted(name: string, source: SearchSource): Promise<void> {
    if (!this.repositories && !this.building) return;
    const tags = await tagsOf(source, name).catch(() => new Map<string, Annotations>());
    this.change((index) => index.set(name, tags));
  }

  /**
   * Repositories whose name, or one of whose tags or its manifest's annotation values, contains `term`
   * (case-insensitive; an empty term matches all), in lexical order, keeping only those `visible` admits.
   */
  async search(source: SearchSource, term: string, visible: (name: string) => boolean): Promise<SearchHit[]> {
    const index = await this.ready(source);
    const needle = term.toLowerCase();
    const hits: SearchHit[] = [];
    for (const name of [...index.keys()].sort()) {
      if (!visible(name)) continue;
      const tagged = index.get(name)!;
      const tags = [...tagged.keys()].sort();
      const matches = (tag: string) => tag.toLowerCase().includes(needle) || Object.values(tagged.get(tag)!).some((value) => value.toLowerCase().includes(needle));
      const shown = name.toLowerCase().includes(needle) ? tags : tags.filter(matches);
      if (shown.length === 0 && !name.toLowerCase().includes(needle)) continue;
      const description = shown.map((tag) => tagged.get(tag)![DESCRIPTION_ANNOTATION]).find((value) => value !== undefined);
      hits.push({ name, tags: shown, ...(description !== undefined ? { description } : {}) });
    }
    return hits;
  }
}
