/** Tag listing of a repository. */
import { RegistryError } from './errors.js';
import { basename, type StorageLayout } from './layout.js';
import { lexical, paginate, type Page, type PageRequest } from './pagination.js';
import type { RegistryStorage } from './storage.js';

/** current links read at once while filtering a page */
const LINK_READS_IN_FLIGHT = 8;

export class TagStore {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
  ) {}

  async list(name: string, request: PageRequest): Promise<Page> {
    const tagPaths = await this.storage.listOrUndefined(this.layout.tags(name));
    if (tagPaths === undefined) {
      // a repository with content but no tag (yet, or any more) lists none; an unknown one is an error
      if ((await this.storage.listOrUndefined(this.layout.repository(name)))?.length) return { entries: [] };
      throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to this registry`, { name });
    }
    const candidates = tagPaths
      .map(basename)
      .filter((tag) => request.last === undefined || tag > request.last)
      .sort(lexical);
    return paginate(await this.resolvable(name, candidates, request.n), request);
  }

  /**
   * The tags, in order, whose current link exists, up to one more than `limit` (so the page knows whether
   * another follows). A tag folder without its current link is what a crash leaves on a filesystem (the
   * folders are made before the link is renamed into place) or a delete stopped half-way: such a tag
   * cannot be pulled, so it is not listed.
   */
  private async resolvable(name: string, sortedTags: readonly string[], limit: number | undefined): Promise<string[]> {
    const wanted = limit === undefined ? Number.POSITIVE_INFINITY : limit + 1;
    const found: string[] = [];
    for (let start = 0; start < sortedTags.length && found.length < wanted; start += LINK_READS_IN_FLIGHT) {
      const batch = sortedTags.slice(start, start + LINK_READS_IN_FLIGHT);
      const links = await Promise.all(batch.map((tag) => this.storage.readLink(this.layout.tagCurrentLink(name, tag))));
      batch.forEach((tag, i) => {
        if (links[i] !== undefined && found.length < wanted) found.push(tag);
      });
    }
    return found;
  }
}
