/** Tag listing of a repository. */
import { RegistryError } from './errors.js';
import { basename, type StorageLayout } from './layout.js';
import { paginate, type Page, type PageRequest } from './pagination.js';
import type { RegistryStorage } from './storage.js';

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
    return paginate(tagPaths.map(basename), request);
  }
}
