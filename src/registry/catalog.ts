/**
 * The catalog: every repository holding manifests, found as distribution finds them (a folder with
 * `_manifests`; names nest, and a repository may hold others below it).
 *
 * Pages come from the catalog index (catalog-index.ts): a lookup in the base a walk wrote, merged with the
 * journal manifest PUTs append to, each name checked against its parent folder's listing. A page of 1,000
 * costs a listing or two, not a listing per repository. On storage without an index yet (until `stowage
 * serve` has built one at start, or `stowage catalog rebuild` has) pages walk the tree; a page never writes.
 *
 * The walk (`walk`, which builds the index) costs what it shows, not what the registry holds: it skips
 * every folder whose names all sort at or before `last` without listing it, and stops once it has one entry
 * more than the page (which tells it whether another page follows). Listings come from the driver's
 * `listAfter`, which the filesystem driver answers from a sorted listing it keeps only while the folder's
 * times say it is unchanged, so several processes sharing the storage always see what is stored now.
 */
import type { CatalogIndex } from './catalog-index.js';
import { basename, type StorageLayout } from './layout.js';
import { lexical, type Page, type PageRequest } from './pagination.js';
import type { RegistryStorage } from './storage.js';

/** sibling folders whose listings are read ahead of the one the walk is at */
const LISTINGS_AHEAD = 8;
/**
 * Listings are read ahead only after one of at most this many entries: a repository's own folder
 * (`_layers`, `_manifests`, `_uploads`), whose siblings are most likely repositories too. After a large
 * listing (a namespace of 1,000 repositories) the siblings are more namespaces, and reading them ahead
 * would list thousands of names the page never reaches.
 */
const READ_AHEAD_AFTER_AT_MOST = 16;
/** tag folders readied side by side by `buildIndex` with `tagListings` */
const TAG_LISTINGS_IN_FLIGHT = 8;
/** no limit on a listing's length: a catalog folder is read whole */
const WHOLE = Number.MAX_SAFE_INTEGER;

/**
 * One step of the walk through a folder's child `entry`: its own repository (`descend` false), or the
 * repositories below it (`descend` true). All names below `x` start with `x/`, so they sort together, right
 * after the key `x/`; `x` itself sorts at `x`. Walking a folder's steps in key order therefore yields names in
 * plain lexical order, which is not depth-first order: `a` comes before `a.b`, which comes before `a/b`, as
 * `.` sorts before `/`.
 */
interface Step {
  readonly entry: string;
  readonly name: string;
  readonly descend: boolean;
  readonly key: string;
}

/** Whether every name below repository name `name` (every `name/...`) sorts at or before `last`. */
function belowIsBefore(name: string, last: string | undefined): boolean {
  if (last === undefined) return false;
  const prefix = `${name}/`;
  return prefix < last && !last.startsWith(prefix);
}

export class Catalog {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly index: CatalogIndex,
  ) {}

  async list(request: PageRequest, defaultLimit: number): Promise<Page> {
    const limit = request.n ?? defaultLimit;
    if (limit === 0) return { entries: [] };
    // one entry more than the page says whether another page follows
    const found = (await this.fromIndex(request.last, limit + 1)) ?? (await this.walk(request.last, limit + 1));
    if (found.length <= limit) return { entries: found };
    const entries = found.slice(0, limit);
    return { entries, next: entries[entries.length - 1] };
  }

  /** The page from the index; undefined when storage has no index yet (`serve` builds one at start). */
  private fromIndex(last: string | undefined, wanted: number): Promise<string[] | undefined> {
    return this.index.page(last, wanted);
  }

  /**
   * Writes a new index base from a walk of the whole tree (`stowage catalog rebuild`, and the first page on
   * storage without one): every repository, including those something other than stowage added.
   */
  async buildIndex(options: { readonly tagListings?: boolean } = {}): Promise<number> {
    let found: readonly string[] = [];
    const count = await this.index.build(async () => (found = await this.walk(undefined, Number.MAX_SAFE_INTEGER)));
    if (options.tagListings) await this.prepareTagListings(found);
    return count;
  }

  /**
   * With `tagListings`: readies every repository's tag listing for other processes' first pages (the
   * driver's `prepareListing`: the filesystem driver writes a large tags folder's sorted listing beside it),
   * a few at a time. For `stowage catalog rebuild`, the step after writing storage behind the registry's back;
   * not for the periodic reconcile, which would add a stat per repository to every walk.
   */
  private async prepareTagListings(repositories: readonly string[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < repositories.length) await this.storage.prepareListing(this.layout.tags(repositories[next++]!));
    };
    await Promise.all(Array.from({ length: TAG_LISTINGS_IN_FLIGHT }, worker));
  }

  /** Up to `wanted` repositories after `last`, in lexical order, by walking the tree. */
  async walk(last: string | undefined, wanted: number): Promise<string[]> {
    const root = this.layout.repositories();
    const rootListing = await this.listing(root);
    const found: string[] = [];
    if (rootListing) await this.visit(root, rootListing, '', last, wanted, found);
    return found;
  }

  /** A folder's children (full paths), undefined when it is gone; from the driver's sorted listing, which the filesystem driver keeps while the folder is unchanged. */
  private async listing(folder: string): Promise<string[] | undefined> {
    return (await this.storage.listAfterOrUndefined(folder, undefined, WHOLE))?.children;
  }

  /**
   * Adds, in lexical order, the repositories below `folder` (whose children are `listing` and whose
   * repository name is `name`, '' for the root) that sort after `last`, until `found` holds `wanted`.
   * Resolves to true when it does.
   */
  private async visit(folder: string, listing: readonly string[], name: string, last: string | undefined, wanted: number, found: string[]): Promise<boolean> {
    const steps: Step[] = [];
    for (const child of listing) {
      const entry = basename(child);
      if (entry.startsWith('_')) continue;
      const childName = name === '' ? entry : `${name}/${entry}`;
      if (last === undefined || childName > last) steps.push({ entry, name: childName, descend: false, key: entry });
      if (!belowIsBefore(childName, last)) steps.push({ entry, name: childName, descend: true, key: `${entry}/` });
    }
    steps.sort((a, b) => lexical(a.key, b.key));

    const listings = new Map<string, Promise<string[] | undefined>>();
    const listingOf = (entry: string): Promise<string[] | undefined> => {
      let pending = listings.get(entry);
      if (!pending) {
        pending = this.listing(`${folder}/${entry}`);
        listings.set(entry, pending);
      }
      return pending;
    };
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const childListing = await listingOf(step.entry);
      if (childListing && childListing.length <= READ_AHEAD_AFTER_AT_MOST) {
        for (const ahead of steps.slice(i + 1, i + LISTINGS_AHEAD)) void listingOf(ahead.entry).catch(() => undefined);
      }
      // a folder removed since its parent was listed holds no repository any more
      if (!childListing) continue;
      if (!step.descend) {
        if (childListing.some((child) => basename(child) === '_manifests')) {
          found.push(step.name);
          if (found.length >= wanted) return true;
        }
      } else {
        // the step below is the entry's last (its own sorts before it), so its listing is not needed again
        listings.delete(step.entry);
        if (await this.visit(`${folder}/${step.entry}`, childListing, step.name, last, wanted, found)) return true;
      }
    }
    return false;
  }
}
