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
   * One listing of the tags folder, whatever the page: a tag folder is listed only while its current link
   * exists, so no tag needs reading. The manifest PUT writes the current link first, and storage makes a
   * folder appear with the object it was made for (the driver contract's listing rule: an object store's
   * prefix, the filesystem driver's folder built aside and renamed in); `removeTag` deletes the link last.
   * Several processes on one storage see what is stored now: nothing is cached.
   */
  async list(name: string, request: PageRequest): Promise<Page> {
    const tagPaths = await this.storage.listOrUndefined(this.layout.tags(name));
    if (tagPaths === undefined) {
      // a repository with content but no tag (yet, or any more) lists none; an unknown one is an error
      if ((await this.storage.listOrUndefined(this.layout.repository(name)))?.length) return { entries: [] };
      throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to this registry`, { name });
    }
    return paginate(tagPaths.map(basename), request);
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
