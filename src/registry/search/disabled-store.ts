/** `search.backend: none`: nothing is recorded, and a search answers UNSUPPORTED (405) saying why. */
import { RegistryError } from '../errors.js';
import type { SearchStore, TagAnnotations } from './store.js';

export class DisabledSearchStore implements SearchStore {
  readonly kind = 'none' as const;
  async tagsPushed(): Promise<void> {}
  async refresh(): Promise<void> {}
  async tagsRemoved(): Promise<void> {}
  async prune(): Promise<void> {}
  async candidates(): Promise<string[]> {
    throw new RegistryError('UNSUPPORTED', 'search is off on this registry (search.backend: none)');
  }
  async entries(): Promise<Map<string, TagAnnotations>> {
    return new Map();
  }
  /** never built, and never needing to be */
  async builtAt(): Promise<number | undefined> {
    return 0;
  }
  async markBuilt(): Promise<void> {}
  async close(): Promise<void> {}
}
