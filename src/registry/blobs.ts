/** Blobs of a repository: content-addressed data under blobs/, visible to a repository through its `_layers` link. */
import type { Readable } from 'node:stream';
import { readAtOf, type ReadAt } from '../storage/driver.js';
import type { Digest } from './digest.js';
import { RegistryError } from './errors.js';
import type { StorageLayout } from './layout.js';
import { registryErrorOf } from './storage-errors.js';
import type { RegistryStorage } from './storage.js';

export interface BlobDescriptor {
  readonly digest: string;
  readonly size: number;
}

/** A blob's bytes, as the registry hands them out. */
export interface BlobBody {
  /** the bytes from the offset asked for; whoever takes the body destroys the stream when done */
  readonly stream: Readable;
  /**
   * Positional reads of the whole blob, when storage has cheap ones (the driver's READ_AT): a caller that
   * uses them reads nothing from `stream`. See src/http/blob-body.ts for why this matters on large pulls.
   */
  readonly readAt?: ReadAt;
}

export class BlobStore {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly options: { readonly deleteEnabled: boolean; readonly redirect: boolean },
  ) {}

  /**
   * The blob as `name` sees it. Like distribution's manifest statter, a manifest's revision link
   * also makes its bytes readable through the blob endpoint.
   */
  async stat(name: string, digest: Digest): Promise<BlobDescriptor> {
    const descriptor = await this.statOrUndefined(name, digest);
    if (!descriptor) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest.value} is not known to repository ${name}`, { digest: digest.value });
    return descriptor;
  }

  async statOrUndefined(name: string, digest: Digest): Promise<BlobDescriptor | undefined> {
    if (!(await this.isLinked(name, digest))) return undefined;
    const size = await this.storage.sizeOf(this.layout.blobData(digest));
    return size === undefined ? undefined : { digest: digest.value, size };
  }

  async isLinked(name: string, digest: Digest): Promise<boolean> {
    const layer = await this.storage.readLink(this.layout.layerLink(name, digest));
    if (layer?.value === digest.value) return true;
    const revision = await this.storage.readLink(this.layout.revisionLink(name, digest));
    return revision?.value === digest.value;
  }

  /** Whether the content exists anywhere in the registry (for mounts without `from`). */
  async existsGlobally(digest: Digest): Promise<number | undefined> {
    return this.storage.sizeOf(this.layout.blobData(digest));
  }

  /** Whether the content is stored (a manifest push checks each blob it names). */
  async isStored(digest: Digest): Promise<boolean> {
    return this.storage.holdsObject(this.layout.blobData(digest));
  }

  async link(name: string, digest: Digest): Promise<void> {
    await this.storage.writeLink(this.layout.layerLink(name, digest), digest);
  }

  async open(digest: Digest, offset: number): Promise<BlobBody> {
    const stream = await this.storage.driver.reader(this.layout.blobData(digest), offset);
    const positional = readAtOf(stream);
    if (!positional) return { stream };
    // storage errors leave the registry as registry errors, whichever way the bytes are read
    const readAt: ReadAt = async (buffer, length, position) => {
      try {
        return await positional(buffer, length, position);
      } catch (err) {
        throw registryErrorOf(err);
      }
    };
    return { stream, readAt };
  }

  /** A URL the client may fetch the blob from directly, when the driver offers one and redirects are on. */
  async redirectURL(digest: Digest, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    const driver = this.storage.driver;
    if (!this.options.redirect || !driver.redirectURL) return undefined;
    return driver.redirectURL(this.layout.blobData(digest), { method, expiresIn: 20 * 60 });
  }

  /** Unlinks the blob from the repository (the data stays for garbage collection, as in distribution). */
  async delete(name: string, digest: Digest): Promise<void> {
    if (!this.options.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletes are disabled on this registry (storage.delete.enabled is false)');
    const linkPath = this.layout.layerLink(name, digest);
    const linked = await this.storage.readLink(linkPath);
    if (linked?.value !== digest.value) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest.value} is not known to repository ${name}`, { digest: digest.value });
    await this.storage.driver.delete(linkPath);
  }

  /** Mounts a blob from `from` (or, without `from`, from anywhere in the registry) into `name`. */
  async mount(name: string, digest: Digest, from: string | undefined): Promise<BlobDescriptor | undefined> {
    let size: number | undefined;
    if (from !== undefined) {
      size = (await this.statOrUndefined(from, digest))?.size;
    } else {
      size = await this.existsGlobally(digest);
    }
    if (size === undefined) return undefined;
    await this.link(name, digest);
    return { digest: digest.value, size };
  }
}
