/**
 * The storage reads the registry repeats most, answered from caches: a blob's size (its descriptor), a tag's
 * current link (tag -> digest), the other link files of a repository, and the bytes of small blobs (manifests).
 * Every write and delete the registry makes through this driver invalidates what it could change.
 *
 * What may be cached depends on the store. Digest-addressed things (blob sizes and bytes) never change while
 * they exist, so any store may hold them. Links change (a tag moves), so they are cached only in a store
 * every process shares: a process keeping a link to itself could serve a digest another process has moved.
 * Misses found in storage are never cached (a blob or tag may appear at any time).
 */
import type { FileInfo, FileWriter, StorageDriver } from '../../storage/driver.js';
import { optionalDriverCalls, optionalWriterCalls, type OptionalCallWrapping } from '../../storage/optional-calls.js';
import { ForwardingWriter } from '../../storage/forwarding-writer.js';
import type { StorageLayout } from '../layout.js';
import { BLOBS_SCOPE, REPOSITORIES_SCOPE, repositoryScope, type CacheStore } from './store.js';

/** the largest blob whose bytes are cached (the registry's largest manifest) */
export const SMALL_OBJECT_LIMIT = 4 * 1024 * 1024;

export type CacheKind = 'blob_descriptor' | 'tag' | 'link' | 'small_blob';

export interface RegistryCaches {
  /** `cache` / storage.cache.blobdescriptor: blob descriptors and, when shared, tag -> digest */
  readonly descriptors: CacheStore;
  /** `cache_lru`: small objects (manifest bytes; links when shared) */
  readonly smallObjects: CacheStore;
  /** counts each lookup (metrics) */
  readonly counted?: (kind: CacheKind, hit: boolean) => void;
  close(): Promise<void>;
}

interface Cached {
  readonly kind: CacheKind;
  readonly store: CacheStore;
  readonly scopes: readonly string[];
}

export function cachedDriver(driver: StorageDriver, layout: StorageLayout, caches: RegistryCaches): StorageDriver {
  const blobsRoot = `${layout.root}/blobs/`;
  const repositoriesRoot = `${layout.repositories()}/`;
  const stores = [...new Set([caches.descriptors, caches.smallObjects])];

  const isBlobData = (path: string): boolean => path.startsWith(blobsRoot) && /^[a-z0-9]+\/[0-9a-f]{2}\/[0-9a-zA-Z_=-]+\/data$/.test(path.slice(blobsRoot.length));

  /** `name` of a path inside a repository's `_manifests` or `_layers`; undefined elsewhere */
  const repositoryLinkArea = (path: string): string | undefined => {
    if (!path.startsWith(repositoriesRoot)) return undefined;
    const match = /^(.+?)\/(_manifests|_layers)(\/|$)/.exec(path.slice(repositoriesRoot.length));
    return match?.[1];
  };

  const linkCache = (path: string): Cached | undefined => {
    if (!path.endsWith('/link')) return undefined;
    const name = repositoryLinkArea(path);
    if (name === undefined) return undefined;
    const scopes = [REPOSITORIES_SCOPE, repositoryScope(name)];
    const isTag = /^.+\/_manifests\/tags\/[^/]+\/current\/link$/.test(path.slice(repositoriesRoot.length));
    const cached: Cached = isTag ? { kind: 'tag', store: caches.descriptors, scopes } : { kind: 'link', store: caches.smallObjects, scopes };
    return cached.store.shared ? cached : undefined;
  };

  async function read<T>(cached: Cached, key: string, load: () => Promise<T>, encode: (value: T) => string | undefined, decode: (text: string) => T): Promise<T> {
    const { value, generation } = await cached.store.lookup(cached.scopes, key);
    caches.counted?.(cached.kind, value !== undefined);
    if (value !== undefined) return decode(value);
    const loaded = await load();
    const text = encode(loaded);
    if (generation !== undefined && text !== undefined) await cached.store.fill(cached.scopes, generation, key, text);
    return loaded;
  }

  /** the scopes a change at `path` (a write, a delete, a move's source or target) may make stale */
  const scopesChangedBy = (path: string, removal: boolean): string[] => {
    const trimmed = path.replace(/\/+$/, '');
    const scopes: string[] = [];
    // a blob only changes by going away; one appearing cannot contradict a cached size
    if (removal && (trimmed.startsWith(blobsRoot) || blobsRoot.startsWith(`${trimmed}/`))) scopes.push(BLOBS_SCOPE);
    const name = repositoryLinkArea(trimmed);
    if (name !== undefined) scopes.push(repositoryScope(name));
    else if (removal && (trimmed.startsWith(repositoriesRoot) || repositoriesRoot.startsWith(`${trimmed}/`)) && !/\/_uploads(\/|$)/.test(trimmed)) {
      // a repository folder or a namespace above several: every repository's links
      scopes.push(REPOSITORIES_SCOPE);
    }
    return scopes;
  };

  const changed = async (path: string, removal: boolean): Promise<void> => {
    const scopes = scopesChangedBy(path, removal);
    await Promise.all(scopes.flatMap((scope) => stores.map((store) => store.invalidate(scope))));
  };

  /** an optional call that writes: what is cached of its paths is forgotten before it runs and after */
  const forgetting: OptionalCallWrapping = {
    async: async (call) => {
      const written = call.writes();
      if (written.length === 0) return call.proceed();
      await Promise.all(written.map((path) => changed(path, false)));
      const result = await call.proceed();
      await Promise.all(written.map((path) => changed(path, false)));
      return result;
    },
  };

  const cachingWriter = (writer: FileWriter, path: string): FileWriter =>
    Object.assign(
      new CachingWriter(writer, path, changed),
      // content becomes visible when an optional call resolves (commitTo): the writer's own path and the ones it wrote
      optionalWriterCalls(writer, {
        async: async (call) => {
          const result = await call.proceed();
          await Promise.all([changed(path, true), ...call.writes().map((written) => changed(written, false))]);
          return result;
        },
      }),
    );

  const wrapped: StorageDriver = {
    name: driver.name,
    getContent: (path, signal) => {
      const link = linkCache(path);
      if (link) return read(link, `content:${path}`, () => driver.getContent(path, signal), encodeBytes, decodeBytes);
      if (isBlobData(path)) {
        const cached: Cached = { kind: 'small_blob', store: caches.smallObjects, scopes: [BLOBS_SCOPE] };
        return read(cached, `content:${path}`, () => driver.getContent(path, signal), (bytes) => (bytes.length <= SMALL_OBJECT_LIMIT ? encodeBytes(bytes) : undefined), decodeBytes);
      }
      return driver.getContent(path, signal);
    },
    stat: (path, signal) => {
      if (!isBlobData(path)) return driver.stat(path, signal);
      const cached: Cached = { kind: 'blob_descriptor', store: caches.descriptors, scopes: [BLOBS_SCOPE] };
      return read(cached, `stat:${path}`, () => driver.stat(path, signal), encodeInfo, (text) => decodeInfo(path, text));
    },
    putContent: async (path, content, signal) => {
      await changed(path, false);
      await driver.putContent(path, content, signal);
      await changed(path, false);
    },
    move: async (sourcePath, destPath, signal) => {
      await driver.move(sourcePath, destPath, signal);
      await Promise.all([changed(sourcePath, true), changed(destPath, false)]);
    },
    delete: async (path, signal) => {
      await driver.delete(path, signal);
      await changed(path, true);
    },
    writer: async (path, append, signal) => cachingWriter(await driver.writer(path, append, signal), path),
    reader: (path, offset, signal) => driver.reader(path, offset, signal),
    uploadSize: (path, signal) => driver.uploadSize(path, signal),
    list: (path, signal) => driver.list(path, signal),
  };
  Object.assign(wrapped, optionalDriverCalls(driver, forgetting));
  // a blob's size answers from the descriptor cache whichever stat asks (a miss is never cached)
  const innerStatIfPresent = driver.statIfPresent;
  if (innerStatIfPresent) {
    wrapped.statIfPresent = (path, signal) => {
      if (!isBlobData(path)) return innerStatIfPresent.call(driver, path, signal);
      const cached: Cached = { kind: 'blob_descriptor', store: caches.descriptors, scopes: [BLOBS_SCOPE] };
      return read(cached, `stat:${path}`, () => innerStatIfPresent.call(driver, path, signal), (info) => (info === undefined ? undefined : encodeInfo(info)), (text) => decodeInfo(path, text));
    };
  }
  return wrapped;
}

/** A writer whose commit forgets what is cached of its path. */
class CachingWriter extends ForwardingWriter {
  constructor(
    inner: FileWriter,
    private readonly path: string,
    /** forgets what is cached of a changed path */
    private readonly changed: (path: string, removal: boolean) => Promise<void>,
  ) {
    super(inner);
  }

  override async commit(signal?: AbortSignal): Promise<void> {
    await this.inner.commit(signal);
    await this.changed(this.path, false);
  }
}

const encodeBytes = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const decodeBytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));
const encodeInfo = (info: FileInfo): string | undefined => (info.isDir ? undefined : JSON.stringify({ size: info.size, modTime: info.modTime.getTime() }));
function decodeInfo(path: string, text: string): FileInfo {
  const { size, modTime } = JSON.parse(text) as { size: number; modTime: number };
  return { path, size, modTime: new Date(modTime), isDir: false };
}
