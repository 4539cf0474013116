/** The catalog: every repository holding manifests, found as distribution finds them (a folder with `_manifests`). */
import { basename, type StorageLayout } from './layout.js';
import { paginate, type Page, type PageRequest } from './pagination.js';
import type { RegistryStorage } from './storage.js';

export class Catalog {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
  ) {}

  async list(request: PageRequest, defaultLimit: number): Promise<Page> {
    const root = this.layout.repositories();
    const names: string[] = [];
    await this.collect(root, root, names);
    return paginate(names, request, defaultLimit);
  }

  private async collect(root: string, dir: string, names: string[]): Promise<void> {
    const children = await this.storage.listOrUndefined(dir);
    if (!children) return;
    for (const child of children.sort()) {
      const entry = basename(child);
      if (entry === '_manifests') {
        names.push(dir.slice(root.length + 1));
      } else if (!entry.startsWith('_')) {
        await this.collect(root, child, names);
      }
    }
  }
}
