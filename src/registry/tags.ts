/** Tag listing of a repository, and the order a tag's links are removed in. */
import { RegistryError } from './errors.js';
import { basename, type StorageLayout } from './layout.js';
import { paginate, type Page, type PageRequest } from './pagination.js';
import type { RegistryStorage } from './storage.js';

export class TagStore {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
  ) {}

  /**
   * One sorted listing of the tags folder from `last`, and no read of any tag: a page of 100 from 100,000
   * tags costs what a page from 1,000 does where the driver's `listAfter` starts after a name. A tag folder
   * is listed only while its current link exists: the manifest PUT writes the link first, storage makes a
   * folder appear with the object it was made for (the driver contract's listing rule: an object store's
   * prefix, the filesystem driver's folder built aside and renamed in), and `removeTag` deletes the link
   * last. Several processes on one storage see what is stored now: a driver keeps a listing only while
   * storage says the folder is unchanged.
   */
  async list(name: string, request: PageRequest): Promise<Page> {
    // one more than the page says whether another follows
    const limit = request.n === undefined ? Number.MAX_SAFE_INTEGER : request.n + 1;
    const listed = await this.storage.listAfterOrUndefined(this.layout.tags(name), request.last, limit);
    if (listed === undefined) {
      // a repository with content but no tag (yet, or any more) lists none; an unknown one is an error
      if ((await this.storage.listOrUndefined(this.layout.repository(name)))?.length) return { entries: [] };
      throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to this registry`, { name });
    }
    return paginate(listed.children.map(basename), request);
  }
}

/**
 * Removes a tag so that it is listed exactly as long as it resolves: its index entries (which only GC
 * reads) first, then the folder, which by then holds the current link alone, so it leaves the listing with
 * that one object (see `TagStore.list`). A crash in between leaves a tag that still resolves, and a delete
 * that can be repeated.
 */
export async function removeTag(storage: RegistryStorage, layout: StorageLayout, name: string, tag: string): Promise<void> {
  await storage.deleteIfPresent(layout.tagIndex(name, tag));
  await storage.deleteIfPresent(layout.tag(name, tag));
}
