/**
 * distribution's storage layout (registry/storage/paths.go), byte for byte, under
 * `<rootDirectory>/docker/registry/v2`. One stowage extension: `_manifests/referrers/`, which
 * distribution never reads (see docs/api.md).
 */
import type { Digest } from './digest.js';

export class StorageLayout {
  readonly root: string;
  /** stowage's own objects (collector lease and state), beside `docker/`: distribution never looks there */
  readonly stowageRoot: string;

  constructor(rootDirectory = '/') {
    const trimmed = rootDirectory.replace(/\/+$/, '');
    this.root = `${trimmed}/docker/registry/v2`;
    this.stowageRoot = `${trimmed}/_stowage`;
  }

  /** who collects garbage now, and until when (src/registry/gc/lease.ts) */
  gcLease(): string {
    return `${this.stowageRoot}/gc/lease.json`;
  }
  /** the upload the collectors append to when they take the lease: only one append at a size goes on (src/registry/gc/lease.ts) */
  gcLeaseClaims(): string {
    return `${this.stowageRoot}/gc/lease.claims`;
  }
  /** the state of an online collection in progress, so that another run can finish it after a crash */
  gcRunState(): string {
    return `${this.stowageRoot}/gc/run.json`;
  }
  /**
   * When a manifest was last pulled from a repository (src/registry/gc/pulls.ts). `_pulls` cannot be a
   * repository name component, so no repository's records mix with another's.
   */
  pullRecord(name: string, d: Digest): string {
    return `${this.stowageRoot}/pulls/${name}/_pulls/${d.algorithm}/${d.hex}`;
  }
  /** the catalog index (src/registry/catalog-index.ts): which base holds every repository a walk found */
  catalogPointer(): string {
    return `${this.stowageRoot}/catalog/current`;
  }
  catalogBases(): string {
    return `${this.stowageRoot}/catalog/base`;
  }
  catalogBase(id: string): string {
    return `${this.catalogBases()}/${id}`;
  }
  /** one entry per repository created since the base (its name encoded, see catalog-index.ts) */
  catalogJournal(): string {
    return `${this.stowageRoot}/catalog/journal`;
  }
  catalogJournalEntry(entry: string): string {
    return `${this.catalogJournal()}/${entry}`;
  }
  /** where a blob waits, hidden, between being unreferenced and being deleted */
  gcTrash(d: Digest): string {
    return `${this.stowageRoot}/gc/trash/${d.algorithm}/${d.hex}`;
  }

  blobDir(d: Digest): string {
    return `${this.root}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`;
  }
  blobData(d: Digest): string {
    return `${this.blobDir(d)}/data`;
  }

  repositories(): string {
    return `${this.root}/repositories`;
  }
  repository(name: string): string {
    return `${this.repositories()}/${name}`;
  }

  layerLink(name: string, d: Digest): string {
    return `${this.repository(name)}/_layers/${d.algorithm}/${d.hex}/link`;
  }

  manifests(name: string): string {
    return `${this.repository(name)}/_manifests`;
  }
  revisionLink(name: string, d: Digest): string {
    return `${this.manifests(name)}/revisions/${d.algorithm}/${d.hex}/link`;
  }

  tags(name: string): string {
    return `${this.manifests(name)}/tags`;
  }
  tag(name: string, tag: string): string {
    return `${this.tags(name)}/${tag}`;
  }
  tagCurrentLink(name: string, tag: string): string {
    return `${this.tag(name, tag)}/current/link`;
  }
  tagIndex(name: string, tag: string): string {
    return `${this.tag(name, tag)}/index`;
  }
  /**
   * stowage extension: when a mirrored tag was last confirmed by its upstream (src/registry/mirror). Beside
   * the tag's `current` link, so it goes with the tag; distribution never reads it.
   */
  tagFetchedAt(name: string, tag: string): string {
    return `${this.tag(name, tag)}/fetchedat`;
  }
  tagIndexLink(name: string, tag: string, d: Digest): string {
    return `${this.tagIndex(name, tag)}/${d.algorithm}/${d.hex}/link`;
  }

  /** stowage extension: one link per manifest whose `subject` is `subject` */
  referrers(name: string, subject: Digest): string {
    return `${this.manifests(name)}/referrers/${subject.algorithm}/${subject.hex}`;
  }
  referrerLink(name: string, subject: Digest, referrer: Digest): string {
    return `${this.referrers(name, subject)}/${referrer.algorithm}/${referrer.hex}/link`;
  }

  upload(name: string, id: string): string {
    return `${this.repository(name)}/_uploads/${id}`;
  }
  uploadData(name: string, id: string): string {
    return `${this.upload(name, id)}/data`;
  }
  uploadStartedAt(name: string, id: string): string {
    return `${this.upload(name, id)}/startedat`;
  }
  /** the keys self-proving upload ids are signed with (upload-tokens.ts) */
  uploadKeys(): string {
    return `${this.stowageRoot}/uploads/keys`;
  }
  uploadKey(id: string): string {
    return `${this.uploadKeys()}/${id}`;
  }
  /** records of sessions with self-proving ids that ended while their ids stay valid (upload-tokens.ts) */
  closedUploads(): string {
    return `${this.stowageRoot}/uploads/closed`;
  }
  /** one such record, named by a hash of repository and id: fixed-length names in one flat folder */
  closedUpload(record: string): string {
    return `${this.closedUploads()}/${record}`;
  }
}

export const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
