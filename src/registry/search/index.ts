/**
 * The search index: every repository, its tags, and the top-level annotations of the manifest each tag
 * names, kept in a SearchStore (store.ts: memory, SQLite or PostgreSQL). It is a cache of storage: the
 * registry records each manifest push, drops the tags a manifest or tag delete removed, re-reads a repository's
 * tags from storage after retention and garbage collection removed something, and `rebuild` reads all of
 * storage again (`stowage search reindex`, or the first search on an index never built). Storage stays the truth.
 */
import type { Page, PageRequest } from '../pagination.js';
import type { RegistryLogger } from '../logger.js';
import { foldForSearch, type Annotations, type SearchStore, type TagAnnotations } from './store.js';
import { MemorySearchStore } from './memory-store.js';
import { RegistryError } from '../errors.js';
import { ConfigLabelsCache } from './config-labels.js';

export type { Annotations, SearchStore } from './store.js';
export { MemorySearchStore } from './memory-store.js';

/** what the index reads storage through (the Registry) */
export interface SearchSource {
  catalog(request: PageRequest): Promise<Page>;
  /** undefined when the repository is not in storage */
  repositoryTags(name: string): Promise<string[] | undefined>;
  /** the top-level `annotations` of the manifest `tag` names ({} when none, or when it went away) */
  tagAnnotations(name: string, tag: string): Promise<Annotations>;
}

/** the annotation shown as a repository's description (docker search's DESCRIPTION column) */
export const DESCRIPTION_ANNOTATION = 'org.opencontainers.image.description';

/** a manifest's top-level string annotations; {} for anything else (the registry validated the manifest already) */
export function annotationsOf(content: Uint8Array): Annotations {
  return indexedFieldsOf(content).annotations;
}

/** what the index reads of a manifest, from one parse: its annotations, and the image config worth reading for labels */
export function indexedFieldsOf(content: Uint8Array): { annotations: Annotations; config?: { digest: string; size: number } } {
  let parsed: { annotations?: unknown; config?: { mediaType?: unknown; digest?: unknown; size?: unknown } };
  try {
    parsed = JSON.parse(Buffer.from(content).toString('utf8')) as typeof parsed;
  } catch {
    return { annotations: {} };
  }
  if (parsed === null || typeof parsed !== 'object') return { annotations: {} };
  const raw = parsed.annotations;
  const annotations =
    raw === null || typeof raw !== 'object' || Array.isArray(raw)
      ? {}
      : Object.fromEntries(Object.entries(raw).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const config = parsed.config;
  if (!config || typeof config.digest !== 'string' || typeof config.size !== 'number' || !IMAGE_CONFIG_TYPES.has(String(config.mediaType))) return { annotations };
  return config.size <= MAX_INDEXED_CONFIG_BYTES ? { annotations, config: { digest: config.digest, size: config.size } } : { annotations };
}

/** image config media types whose `config.Labels` are indexed (docker build's LABEL lands there, not in annotations) */
const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
/** a config larger than this is not read for labels (real ones are a few KiB) */
export const MAX_INDEXED_CONFIG_BYTES = 1024 * 1024;

/** an image config's string `config.Labels`; {} for anything else */
export function labelsOf(configContent: Uint8Array): Annotations {
  try {
    const labels = (JSON.parse(Buffer.from(configContent).toString('utf8')) as { config?: { Labels?: unknown } }).config?.Labels;
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return {};
    return Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}

export interface SearchHit {
  readonly name: string;
  /** the repository's tags that contain the term (or whose manifest's annotations do), or all its tags when its name does */
  readonly tags: readonly string[];
  /** the `org.opencontainers.image.description` annotation of the first of `tags` that has one */
  readonly description?: string;
}

export interface SearchPage {
  /** only names after this one (the `last` of the previous page) */
  readonly after?: string;
  /** at most this many hits; all when absent */
  readonly limit?: number;
}

/** how many candidates are asked of the store at a time */
const CANDIDATE_BATCH = 200;
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

/** The exact rule: a name match shows every tag; otherwise the tags that, or whose annotation values, contain the term. */
function hitOf(name: string, tagged: TagAnnotations, term: string): SearchHit | undefined {
  const needle = term.toLowerCase();
  const tags = [...tagged.keys()].sort();
  const nameMatches = name.toLowerCase().includes(needle);
  const tagMatches = (tag: string) => tag.toLowerCase().includes(needle) || Object.values(tagged.get(tag)!).some((value) => value.toLowerCase().includes(needle));
  const shown = nameMatches ? tags : tags.filter(tagMatches);
  if (!nameMatches && shown.length === 0) return undefined;
  const description = shown.map((tag) => tagged.get(tag)![DESCRIPTION_ANNOTATION]).find((value) => value !== undefined);
  return { name, tags: shown, ...(description !== undefined ? { description } : {}) };
}

/**
 * Microseconds since the epoch: the stores' write times. Finer than milliseconds so that a refresh and a
 * delete's refresh in two processes practically never tie (a tie would let the older read win).
 */
export const searchClock = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class SearchIndex {
  /** shared by every per-request view of the registry, as the index is */
  readonly configLabels = new ConfigLabelsCache();
  private building: Promise<number> | undefined;
  private closing = false;

  constructor(
    readonly store: SearchStore = new MemorySearchStore(),
    private readonly logger?: RegistryLogger,
    private readonly now: () => number = searchClock,
  ) {}

  /**
   * A manifest whose annotations `annotationsOf` reads was pushed to `name`, under `tags` (none for a push by
   * digest). Read only when the store keeps them: they may cost a storage read of the image config.
   */
  async manifestPushed(name: string, tags: readonly string[], annotationsOf: () => Annotations | Promise<Annotations>): Promise<void> {
    if (!this.records) return;
    await this.recording(name, async () => this.store.tagsPushed(name, tags, await annotationsOf(), this.now()));
  }

  /**
   * `deletion` removes a manifest or a tag of `name` from storage and answers the tags it removed: only their
   * rows go from the index (the repository's other tags name other manifests, whose annotations did not
   * change), so a delete reads nothing back from storage. Its errors are the caller's; the index's are logged.
   */
  async manifestDeleted(name: string, deletion: () => Promise<readonly string[]>): Promise<void> {
    // taken before storage changes: a push of one of these tags after it keeps its row (store.ts)
    const startedAt = this.now();
    const removed = await deletion();
    if (!this.records || removed.length === 0) return;
    await this.recording(name, () => this.store.tagsRemoved(name, removed, startedAt));
  }

  /** Something of `name` was deleted by retention or gc: its tags are read again from storage. */
  async repositoryChanged(name: string, source: SearchSource): Promise<void> {
    if (!this.records) return;
    await this.recording(name, () => this.refresh(name, source));
  }

  /** false with search off: then nothing is read from storage for a store that would throw it away */
  private get records(): boolean {
    return this.store.kind !== 'none';
  }

  /** The index is a cache: a store that fails must not fail the push or delete storage has already done. */
  private async recording(name: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.logger?.warn({ err, repository: name, index: this.store.kind }, 'search index: could not record a change (run `stowage search reindex` once the index is reachable)');
    }
  }

  private async refresh(name: string, source: SearchSource): Promise<void> {
    const readAt = this.now();
    const listed = await source.repositoryTags(name);
    let tags: Map<string, Annotations> | undefined;
    if (listed) {
      tags = new Map();
      for (const tag of listed) tags.set(tag, await source.tagAnnotations(name, tag));
    }
    await this.store.refresh(name, tags, readAt);
  }

  /**
   * Reads every repository and tag from storage into the store (safe while the registry serves: see the rules
   * in store.ts); the number of repositories read.
   */
  async rebuild(source: SearchSource): Promise<number> {
    const startedAt = this.now();
    const names = await allOf((request) => source.catalog(request));
    for (const name of names) {
      // a build in the background stops with the server rather than holding its shutdown
      if (this.closing) throw new Error('the search index was closed before it was built');
      await this.refresh(name, source);
    }
    await this.store.prune(new Set(names), startedAt);
    await this.store.markBuilt(startedAt);
    return names.length;
  }

  /** Builds the index when it never was (a new database, or a memory store); one build at a time in this process. */
  async ensureBuilt(source: SearchSource): Promise<void> {
    if ((await this.store.builtAt()) !== undefined) return;
    this.building ??= this.rebuild(source).finally(() => {
      this.building = undefined;
    });
    await this.building;
  }

  /**
   * Repositories whose name, or one of whose tags or its manifest's annotation values, contains `term`
   * (case-insensitive; an empty term matches all), in lexical order, keeping only those `visible` admits.
   */
  async search(source: SearchSource, term: string, visible: (name: string) => boolean, page: SearchPage = {}): Promise<SearchHit[]> {
    try {
      return await this.searchStore(source, term, visible, page);
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      // the database's own message stays in the log (through `cause`), not in the client's answer
      throw new RegistryError('UNAVAILABLE', `the search index (${this.store.kind}) cannot be read; try again later`, undefined, { cause: err });
    }
  }

  private async searchStore(source: SearchSource, term: string, visible: (name: string) => boolean, page: SearchPage): Promise<SearchHit[]> {
    await this.ensureBuilt(source);
    const folded = foldForSearch(term);
    const hits: SearchHit[] = [];
    let after = page.after;
    for (;;) {
      const names = await this.store.candidates(folded, after, CANDIDATE_BATCH);
      const entries = await this.store.entries(names.filter(visible));
      for (const name of names) {
        const tagged = entries.get(name);
        const hit = tagged && hitOf(name, tagged, term);
        if (hit) hits.push(hit);
        if (page.limit !== undefined && hits.length >= page.limit) return hits;
      }
      if (names.length < CANDIDATE_BATCH) return hits;
      after = names.at(-1);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.building?.catch(() => undefined);
    await this.store.close();
  }
}
