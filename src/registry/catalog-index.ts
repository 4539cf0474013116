/**
 * The catalog's index of repository names, kept in storage beside distribution's tree (`_stowage/catalog`),
 * so that a page costs a lookup instead of one listing per repository folder.
 *
 * - A **base**: every repository a walk of the tree found, one sorted text object (`base/<id>`), named by
 *   the **pointer** object `current`. Written by `build` (`stowage serve` at start on storage that has
 *   none, `stowage catalog rebuild`); never changed after, so a process keeps it in memory while `current`
 *   names it. Until there is one, catalog pages walk the tree.
 * - A **journal**: one small object per repository created since (`journal/<name, encoded>`), written by the
 *   first manifest PUT of a repository before its 201, by whichever process takes it. Its folder is listed
 *   in order from `last`, so a page reads only the journal entries it shows.
 *
 * A repository removed from the tree (registry:2 removes one by deleting its folder by hand) is left out of a
 * page when its folder is no longer in its parent folder's listing, one sorted listing per parent on the
 * page; or, when the index knows a repository below it (whose push may have made the folder again), when its
 * folder holds no `_manifests`. Several processes sharing the storage therefore agree at once: a new
 * repository is in the journal before its push is acknowledged, a removed one is gone from its parent.
 *
 * What a page cannot see, the **reconcile** does (`build`, run by `serve` every
 * `storage.maintenance.catalog.interval` and by `stowage catalog rebuild`): a repository something other than
 * stowage added (registry:2 writing the same storage, a copied tree) enters the new base, and one whose folder
 * no longer holds manifests (deleted by hand, re-created with blobs only) leaves it and the journal. It is
 * idempotent, so several processes may run it on shared storage: a base only replaces one from an older walk.
 */
import { createHash } from 'node:crypto';
import type { StorageLayout } from './layout.js';
import { basename } from './layout.js';
import { SortedNameText } from './sorted-name-text.js';
import type { RegistryStorage } from './storage.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Journal objects are named by the repository name with `/` (which a storage name cannot hold) and the
 * characters around it shifted so that the names sort as the repositories do: `/`→`0`, `0`-`8`→`1`-`9`,
 * `9`→`A`; `-`, `.`, `_` and `a`-`z` stay. The name grammar allows nothing else, and the length is kept, so
 * a name of 255 characters still makes a valid file name.
 */
const ENCODE: Readonly<Record<string, string>> = { '/': '0', '0': '1', '1': '2', '2': '3', '3': '4', '4': '5', '5': '6', '6': '7', '7': '8', '8': '9', '9': 'A' };
const DECODE: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ENCODE).map(([from, to]) => [to, from]));
const NAME_CHARACTER = /[a-z0-9._\-/]/;

export const journalEntryOf = (name: string): string => name.replace(/[/0-9]/g, (c) => ENCODE[c]!);
export const nameOfJournalEntry = (entry: string): string => entry.replace(/[0-9A]/g, (c) => DECODE[c]!);

/**
 * The journal entry every name sorting after `last` sorts after: `last`'s longest prefix a repository name
 * can have, encoded (names after `last` sort after that prefix too; the caller drops those up to `last`).
 */
function journalKeyBefore(last: string | undefined): string | undefined {
  if (last === undefined) return undefined;
  let end = 0;
  while (end < last.length && NAME_CHARACTER.test(last[end]!)) end++;
  return end === 0 ? undefined : journalEntryOf(last.slice(0, end));
}

/** A name that sorts right before `leaf` (no folder name sorts between them), to list a folder from `leaf` on. */
function justBefore(leaf: string): string {
  return `${leaf.slice(0, -1)}${String.fromCharCode(leaf.charCodeAt(leaf.length - 1) - 1)}\uffff`;
}

const parentOf = (name: string): string => name.slice(0, Math.max(0, name.lastIndexOf('/')));

interface Base {
  readonly id: string;
  /** in order, once each (a base edited by hand is put in order when read) */
  readonly names: SortedNameText;
  /** the driver's stamp of `current` when it was read naming this base */
  readonly pointerStamp?: string | undefined;
}

/** What every per-request view of one registry shares: the loaded base and the names known to be indexed. */
export class CatalogIndexState {
  base: Base | undefined;
  /**
   * repositories this process has seen in the base or the journal while base `indexedUnder` was current: a
   * reconcile writes a new base before it removes journal entries, so a new base empties it
   */
  readonly indexed = new Set<string>();
  indexedUnder: string | undefined;
  building: Promise<number> | undefined;
}

/** When the walk behind base `id` started (its id begins with that time, in base 36). */
const walkStartOf = (id: string): number => parseInt(id.slice(0, id.indexOf('-')), 36) || 0;

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * A base's id: when its walk started, then the SHA-256 of its content. The digest is the writer's word that
 * the content is as it wrote it (sorted, each name once), so a reader that finds it matching uses the text as
 * read, without a pass over every line (a base edited by hand, or one an older stowage named with a random
 * UUID, is read through and put in order).
 */
const baseIdOf = (walkStart: number, content: Uint8Array): string => `${walkStart.toString(36)}-${sha256Hex(content)}`;
const SEALED_ID = /^[0-9a-z]+-([0-9a-f]{64})$/;

/** A base's names from its content, as read from `base/<id>`. */
function namesOfBase(id: string, content: Uint8Array): SortedNameText {
  const text = decoder.decode(content);
  const digest = SEALED_ID.exec(id)?.[1];
  return digest !== undefined && sha256Hex(content) === digest ? SortedNameText.fromSortedLines(text) : SortedNameText.fromLines(text);
}

/** how many names this process remembers as indexed before it starts over (each costs one check again) */
const MAX_REMEMBERED = 100_000;
/** how long a replaced base is left in place */
const OLD_BASE_MS = 60 * 60_000;
/** journal entries read per listing */
const JOURNAL_BATCH = 256;

export class CatalogIndex {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly state: CatalogIndexState,
  ) {}

  /**
   * Records that repository `name` holds manifests: a journal entry, unless the base or the journal has it.
   * Called by every manifest PUT before it answers; after the first, a memory lookup.
   */
  async add(name: string): Promise<void> {
    const base = await this.currentBase();
    if (base?.id !== this.state.indexedUnder) {
      this.state.indexed.clear();
      this.state.indexedUnder = base?.id;
    }
    if (this.state.indexed.has(name)) return;
    const entry = this.layout.catalogJournalEntry(journalEntryOf(name));
    const inBase = base !== undefined && base.names.has(name);
    if (!inBase && !(await this.storage.exists(entry))) await this.storage.driver.putContent(entry, encoder.encode(name));
    if (this.state.indexed.size >= MAX_REMEMBERED) this.state.indexed.clear();
    this.state.indexed.add(name);
  }

  /** Whether storage has a base to read pages from. */
  async ready(): Promise<boolean> {
    return (await this.currentBase()) !== undefined;
  }

  /**
   * Reconciles the index with the tree: writes a new base from `walk` (every repository of the tree, sorted),
   * points `current` at it unless a base from a later walk is there already, then removes the journal
   * entries it made redundant, and the bases it replaced an hour ago. Single flight per process, and
   * idempotent across processes. Repositories created while the walk runs are in the journal (their PUT
   * writes it whether or not a base exists), so nothing falls between. Answers how many repositories the
   * walk found.
   */
  build(walk: () => Promise<readonly string[]>): Promise<number> {
    this.state.building ??= this.writeBase(walk).finally(() => {
      this.state.building = undefined;
    });
    return this.state.building;
  }

  private async writeBase(walk: () => Promise<readonly string[]>): Promise<number> {
    const walkStart = Date.now();
    const previous = await this.currentBase();
    const names = await walk();
    const text = names.join('\n');
    const content = encoder.encode(text);
    const id = baseIdOf(walkStart, content);
    await this.storage.driver.putContent(this.layout.catalogBase(id), content);
    const before = await this.pointerId();
    // a walk that started later saw at least as much: its base stays (this one is removed with the old ones)
    if (before !== undefined && walkStartOf(before) > walkStartOf(id)) return names.length;
    await this.storage.driver.putContent(this.layout.catalogPointer(), encoder.encode(id));
    // its stamp is unknown here: the next page reads `current` once
    const sortedText = SortedNameText.fromSortedLines(text);
    this.state.base = { id, names: sortedText };
    await this.pruneJournal(previous, sortedText);
    // Bases another build replaced an hour ago or more: a process that read `current` before it moved has
    // long loaded its base (and one that finds its base gone reads `current` again, or walks).
    const current = (await this.pointerId()) ?? '';
    const replacedBefore = (Date.now() - OLD_BASE_MS).toString(36);
    for (const old of (await this.storage.listOrUndefined(this.layout.catalogBases())) ?? []) {
      const oldId = basename(old);
      if (oldId !== current && oldId !== id && oldId < replacedBefore) await this.storage.deleteIfPresent(old);
    }
    return names.length;
  }

  private async pointerId(): Promise<string | undefined> {
    const pointer = await this.storage.getOrUndefined(this.layout.catalogPointer());
    return pointer === undefined ? undefined : decoder.decode(pointer).trim();
  }

  /**
   * Removes the journal entries the new base (`names`) leaves redundant:
   * - one the base holds, when the base it replaced (`previous`) held it too: a page in flight read one of
   *   the two, so it lists the name without the entry;
   * - one whose repository folder no longer holds manifests (gone, or re-created with blobs only). Its first
   *   push writes the revision link before it looks for the entry, so a push that found the entry just before
   *   it went has its manifests stored when the folder is looked at again: the entry is then written back.
   */
  private async pruneJournal(previous: Base | undefined, names: SortedNameText): Promise<void> {
    const folder = this.layout.catalogJournal();
    let after: string | undefined;
    for (;;) {
      const listed = await this.storage.listAfterOrUndefined(folder, after, JOURNAL_BATCH);
      if (!listed || listed.children.length === 0) return;
      for (const child of listed.children) {
        const name = nameOfJournalEntry(basename(child));
        if (names.has(name)) {
          if (previous !== undefined && previous.names.has(name)) await this.storage.deleteIfPresent(child);
        } else if (!(await this.holdsManifests(name))) {
          await this.storage.deleteIfPresent(child);
          if (await this.holdsManifests(name)) await this.storage.driver.putContent(child, encoder.encode(name));
        }
      }
      if (!listed.more) return;
      after = basename(listed.children[listed.children.length - 1]!);
    }
  }

  /** Whether repository `name`'s folder holds `_manifests`, as the walk decides what a repository is. */
  private async holdsManifests(name: string): Promise<boolean> {
    const children = await this.storage.listOrUndefined(this.layout.repository(name));
    return children?.some((child) => basename(child) === '_manifests') ?? false;
  }

  /**
   * Up to `wanted` repositories after `last`, in lexical order, from the base and the journal, each still
   * in its parent folder's listing; undefined when there is no base (or it went away: build one).
   */
  async page(last: string | undefined, wanted: number): Promise<string[] | undefined> {
    const base = await this.currentBase();
    if (!base) return undefined;
    const journal = new JournalCursor(this.storage, this.layout.catalogJournal(), last);
    let next = base.names.firstAfter(last);
    const found: string[] = [];
    while (found.length < wanted) {
      // candidates in order, base and journal merged; a name in both is taken once
      const candidates: string[] = [];
      /** where each candidate the base holds is in it */
      const inBase = new Map<string, number>();
      const batch = Math.max(16, wanted - found.length);
      while (candidates.length < batch) {
        const fromJournal = await journal.peek();
        const fromBase = base.names.at(next);
        if (fromJournal === undefined && fromBase === undefined) break;
        if (fromBase === undefined || (fromJournal !== undefined && fromJournal < fromBase)) {
          candidates.push(journal.take());
        } else {
          if (fromJournal === fromBase) journal.take();
          candidates.push(fromBase);
          inBase.set(fromBase, next);
          next = base.names.next(next);
        }
      }
      if (candidates.length === 0) break;
      const present = await this.stillStored(candidates);
      const foldersOnly = await this.namespacesOnly(
        candidates.filter((name) => present.has(name)),
        inBase,
        base.names,
        journal,
      );
      for (const name of candidates) {
        if (!present.has(name) || foldersOnly.has(name)) continue;
        found.push(name);
        if (found.length === wanted) break;
      }
    }
    return found;
  }

  /**
   * The base `current` names, read again only when `current` changed; undefined when none is readable.
   * Where the driver stamps objects (a synchronous local stat, see `contentStampSync`) `current` is read
   * only when its stamp moved: the stamp is taken before the read, so a write in between leaves the read
   * id under an older stamp, never the reverse.
   */
  private async currentBase(): Promise<Base | undefined> {
    const stamp = this.storage.driver.contentStampSync?.(this.layout.catalogPointer());
    const kept = this.state.base;
    if (stamp !== undefined && kept?.pointerStamp === stamp) return kept;
    const pointer = await this.storage.getOrUndefined(this.layout.catalogPointer());
    if (pointer === undefined) return undefined;
    const id = decoder.decode(pointer).trim();
    if (kept?.id === id) {
      this.state.base = { ...kept, pointerStamp: stamp };
      return this.state.base;
    }
    const content = await this.storage.getOrUndefined(this.layout.catalogBase(id));
    if (content === undefined) return undefined;
    this.state.base = { id, names: namesOfBase(id, content), pointerStamp: stamp };
    return this.state.base;
  }

  /**
   * Which of `names` (each in its parent folder's listing) hold no manifests any more: a repository removed by
   * hand whose folder a push of a repository below it made again (`inBase`: where the base holds each name it
   * holds). Only a name with an indexed repository below it can be one, so only those (rare: a repository that
   * is also a namespace) cost a listing of their folder.
   */
  private async namespacesOnly(names: readonly string[], inBase: ReadonlyMap<string, number>, base: SortedNameText, journal: JournalCursor): Promise<Set<string>> {
    const suspects: string[] = [];
    for (const name of names) {
      // a name from the base is looked up by its place (the name after it), not searched for again
      const at = inBase.get(name);
      if ((at === undefined ? base.hasBelow(name) : base.hasBelowAt(at)) || (await journal.hasBelow(name))) suspects.push(name);
    }
    const held = await Promise.all(suspects.map((name) => this.holdsManifests(name)));
    return new Set(suspects.filter((_, i) => !held[i]));
  }

  /** Which of `names` (sorted) are still in their parent folder's listing: one listing per parent, from the first of its names. */
  private async stillStored(names: readonly string[]): Promise<Set<string>> {
    const byParent = new Map<string, string[]>();
    for (const name of names) {
      const parent = parentOf(name);
      const leaves = byParent.get(parent);
      const leaf = parent === '' ? name : name.slice(parent.length + 1);
      if (leaves) leaves.push(leaf);
      else byParent.set(parent, [leaf]);
    }
    const present = new Set<string>();
    await Promise.all(
      [...byParent].map(async ([parent, leaves]) => {
        const folder = parent === '' ? this.layout.repositories() : this.layout.repository(parent);
        const wanted = new Set(leaves);
        const lastLeaf = leaves[leaves.length - 1]!;
        let after: string | undefined = justBefore(leaves[0]!);
        for (;;) {
          const listed = await this.storage.listAfterOrUndefined(folder, after, Math.max(JOURNAL_BATCH, leaves.length * 2));
          if (!listed) return;
          for (const child of listed.children) {
            const leaf = basename(child);
            if (wanted.has(leaf)) present.add(parent === '' ? leaf : `${parent}/${leaf}`);
          }
          const lastListed = listed.children.length > 0 ? basename(listed.children[listed.children.length - 1]!) : undefined;
          if (!listed.more || lastListed === undefined || lastListed >= lastLeaf) return;
          after = lastListed;
        }
      }),
    );
    return present;
  }
}

/** The journal's names after `last`, in order, read a listing page at a time. */
class JournalCursor {
  private buffer: string[] = [];
  private at = 0;
  private more = true;
  private after: string | undefined;
  /** the folders (names) above every journal name read so far */
  private readonly namespaces = new Set<string>();
  /** the last journal name read so far */
  private lastRead: string | undefined;

  constructor(
    private readonly storage: RegistryStorage,
    private readonly folder: string,
    private readonly last: string | undefined,
  ) {
    this.after = journalKeyBefore(last);
  }

  async peek(): Promise<string | undefined> {
    while (this.at === this.buffer.length && this.more) {
      const listed = await this.storage.listAfterOrUndefined(this.folder, this.after, JOURNAL_BATCH);
      if (!listed || listed.children.length === 0) {
        this.more = false;
        break;
      }
      const entries = listed.children.map(basename);
      this.after = entries[entries.length - 1];
      this.more = listed.more;
      const names = entries.map(nameOfJournalEntry);
      for (const name of names) {
        for (let slash = name.indexOf('/'); slash !== -1; slash = name.indexOf('/', slash + 1)) this.namespaces.add(name.slice(0, slash));
      }
      this.lastRead = names[names.length - 1];
      this.buffer = names.filter((name) => this.last === undefined || name > this.last);
      this.at = 0;
    }
    return this.buffer[this.at];
  }

  /**
   * Whether the journal holds a repository below `name` (after `last`, as every name below a candidate is);
   * from what was read when that covers it, else by one listing from where such names would start.
   */
  async hasBelow(name: string): Promise<boolean> {
    if (this.namespaces.has(name)) return true;
    // '0' is the code unit after '/': every name below `name/` sorts before `name0`
    if (!this.more || (this.lastRead !== undefined && this.lastRead >= `${name}0`)) return false;
    const prefix = journalEntryOf(`${name}/`);
    const listed = await this.storage.listAfterOrUndefined(this.folder, prefix, 1);
    const first = listed?.children[0];
    return first !== undefined && basename(first).startsWith(prefix);
  }

  /** The name `peek` answered (call only after it answered one). */
  take(): string {
    return this.buffer[this.at++]!;
  }
}
