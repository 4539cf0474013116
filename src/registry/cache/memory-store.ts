/**
 * The in-process store, used when no redis is configured. It only ever holds what cannot go stale across
 * processes (blob sizes and content addressed by digest: see cached-driver.ts), so two processes without a
 * shared cache never disagree beyond what storage itself shows.
 */
import { LRUCache } from 'lru-cache';
import type { CacheLookup, CacheStore } from './store.js';

export class InProcessStore implements CacheStore {
  readonly description = 'in-process';
  readonly shared = false;
  private readonly entries: LRUCache<string, string>;
  private readonly generations = new Map<string, number>();

  constructor(maxBytes: number) {
    this.entries = new LRUCache<string, string>({ maxSize: Math.max(1, maxBytes), sizeCalculation: (value, key) => value.length + key.length });
  }

  private generationOf(scopes: readonly string[]): string {
    return scopes.map((scope) => `${scope}=${this.generations.get(scope) ?? 0}`).join('\0');
  }

  async lookup(scopes: readonly string[], key: string): Promise<CacheLookup> {
    const generation = this.generationOf(scopes);
    return { value: this.entries.get(`${generation}\0${key}`), generation };
  }

  async fill(scopes: readonly string[], generation: string, key: string, value: string): Promise<void> {
    if (this.generationOf(scopes) === generation) this.entries.set(`${generation}\0${key}`, value);
  }

  async invalidate(scope: string): Promise<void> {
    this.generations.set(scope, (this.generations.get(scope) ?? 0) + 1);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
